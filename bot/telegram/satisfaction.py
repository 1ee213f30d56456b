"""After /fermer: the voter's one-tap satisfaction question (👍/👎) and optional comment."""

from __future__ import annotations

import html
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop

from bot import support
from bot.telegram import handlers as h
from bot.telegram.context import Context
from store.support import Handoff

RATE_PREFIX = "hd:rate:"  # hd:rate:<handoff id>:<1|0>
COMMENT_WINDOW = timedelta(minutes=30)  # a comment after a rating is taken this long


async def ask_satisfaction(context: Context, handoff: Handoff) -> None:
    """After /fermer: one tap, 👍 or 👎, then an optional comment."""
    services = h.services_of(context)
    template = "support/satisfaction.html"
    rows = [
        [
            InlineKeyboardButton(
                html.unescape(services.renderer.label(template, choice)),
                callback_data=f"{RATE_PREFIX}{handoff.id}:{int(choice == 'up')}",
            )
            for choice in ("up", "down")
        ]
    ]
    await context.bot.send_message(
        handoff.user_id, services.renderer.text(template), reply_markup=InlineKeyboardMarkup(rows)
    )


async def on_rate_button(update: Update, context: Context) -> None:
    """The voter's 👍/👎: recorded once; then a comment is welcome (optional)."""
    services = h.services_of(context)
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    handoff_id, _, up = (query.data or "").removeprefix(RATE_PREFIX).partition(":")
    rated = handoff_id.isdigit() and await services.store.rate_handoff(
        int(handoff_id), user.id, up == "1", services.clock()
    )
    if rated:
        context.bot_data.awaiting_comment.add(user.id)
    text = services.renderer.text("support/rated.html", {"rated": rated, "up": up == "1"})
    if query.message is not None:
        await context.bot.edit_message_text(text, user.id, query.message.message_id)
    raise ApplicationHandlerStop


async def on_comment(update: Update, context: Context) -> None:
    """The voter's next message after a rating is its comment (secrets removed)."""
    awaiting = context.bot_data.awaiting_comment
    user, message = update.effective_user, update.message
    if user is None or message is None or not message.text:
        return
    services = h.services_of(context)
    since = services.clock() - COMMENT_WINDOW
    # One process: it remembers who rated. Several (PostgreSQL): the rating may have been
    # pressed on another one, so the database says.
    if user.id not in awaiting and not (
        services.store.shared and await services.store.awaiting_comment(user.id, since)
    ):
        return
    awaiting.discard(user.id)
    if message.text.startswith("/"):  # no comment: the voter moved on
        if services.store.shared:
            await services.store.comment_handoff(user.id, "", since)
        return
    if await services.store.comment_handoff(user.id, support.scrub(message.text)[:1000], since):
        await message.reply_text(services.renderer.text("support/commented.html"))
        raise ApplicationHandlerStop
