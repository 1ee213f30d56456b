"""The baseline: a bare python-telegram-bot echo bot on the same harness as votebot.

Text → the same text back with two inline buttons; a button press → the message edited in
place with the same buttons. Settings from the same environment variables as votebot
(TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, VOTEBOT_WEBHOOK_*); `--webhook URL` as in
`votebot run`. Concurrent updates, PTB's own polling loop and webhook server, and the same
HTTP client (bot/telegram/transport.py) and event loop (uvloop) as votebot, so the ratio measures
the bot's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from urllib.parse import urlsplit

import uvloop
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.telegram.transport import AiohttpRequest

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Oui", callback_data="yes")],
        [InlineKeyboardButton("⬅️ Retour", callback_data="back")],
    ]
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the text back with the buttons."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        update.effective_message.text or "…", reply_markup=KEYBOARD
    )


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the press and edits its message in place."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Vous avez choisi : {query.data}", reply_markup=KEYBOARD)


def main() -> None:
    # The loop votebot serves on (bot/loop.py), so the ratio measures the bot's own work.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhook")
    args = parser.parse_args()
    base = os.environ["TELEGRAM_API_BASE_URL"]
    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .concurrent_updates(True)
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connections=1))
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(press))
    if args.webhook:
        app.run_webhook(
            listen="127.0.0.1",
            port=int(os.environ["VOTEBOT_WEBHOOK_PORT"]),
            url_path=urlsplit(args.webhook).path.lstrip("/"),
            webhook_url=args.webhook,
            secret_token=os.environ["VOTEBOT_WEBHOOK_SECRET"],
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
