"""Support safety in Telegram: /debannir, and a voter who blocks the bot during a handoff."""

from __future__ import annotations

import contextlib

from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.guards import SUPPORT, requires


@requires(SUPPORT)
async def on_unban(update: Update, context: Context) -> None:
    """/debannir ID: the voter's requests for a person are relayed to support again."""
    services = h.services_of(context)
    message = update.effective_message
    assert message is not None
    args = context.args or []
    user_id = int(args[0]) if args and args[0].isdigit() else 0
    ok = bool(user_id) and await services.store.unban_voter(user_id)
    text = services.renderer.text("support/unbanned.html", {"ok": ok, "user_id": user_id})
    await message.reply_text(text)


async def on_membership(update: Update, context: Context) -> None:
    """A voter blocks or unblocks the bot: marked inactive or active again; if they block it
    during a handoff, their topic is told. Runs before the relay, which would swallow it."""
    change = update.my_chat_member
    if change is None or getattr(change.chat, "type", None) != Chat.PRIVATE:
        return
    if change.new_chat_member is None or change.from_user is None:  # malformed: dropped
        raise ApplicationHandlerStop
    await h.on_my_chat_member(update, context)
    services = h.services_of(context)
    left = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
    handoff = await services.store.open_handoff_of(change.from_user.id)
    chat_id = services.settings.support_chat
    if left and handoff is not None and handoff.thread_id is not None and chat_id is not None:
        text = services.renderer.text("support/voter_blocked.html")
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat_id, text, message_thread_id=handoff.thread_id)
    raise ApplicationHandlerStop
