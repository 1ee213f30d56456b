"""Guards: which chats the bot listens to, the staff group, and role checks for staff commands
and buttons.

`guard_chats` runs first for every update kind (messages, edits, button presses, chat member
changes…): private chats go on; in the staff group only support members are heard; anything
else stops here. A refused button press is answered with `answerCallbackQuery` only, so the
bot never writes into a group because of it, and nobody gets a user row without having
written to the bot in private. In the staff group, `guard_staff` hears support members only
and `ignore_staff_chat` stops whatever no staff handler took.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import Bot, Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.auth import has_role
from bot.telegram import handlers as h
from bot.telegram.context import Context

log = logging.getLogger(__name__)
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
SUPPORT = "support"
# The only buttons pressed in the staff group: /bloques (open a chat), the card (claim it).
STAFF_BUTTONS = ("sup:open:", "hd:claim:")


async def refuse(update: Update) -> None:
    """Stop here; a button press only gets its spinner stopped (no message anywhere)."""
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    raise ApplicationHandlerStop


async def guard_chats(update: Update, context: Context) -> None:
    """Private chats go on; the staff group only for support members; the rest stops here.

    The bot's own membership changes (`my_chat_member`: blocked, unblocked, added to a group)
    and commands typed in other groups (answered with a pointer to the private chat by
    `guard_private`) go on as well.
    """
    if update.my_chat_member is not None:
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.is_bot:
        await refuse(update)
    assert chat is not None and user is not None
    if chat.type == Chat.PRIVATE:
        if chat.id != user.id:  # a private chat is with its user, nobody else
            await refuse(update)
        return
    services = h.services_of(context)
    if chat.id == services.settings.support_chat:
        if not await has_role(services, user.id, SUPPORT):
            await refuse(update)
        query = update.callback_query
        if query is not None and not (query.data or "").startswith(STAFF_BUTTONS):
            await refuse(update)
        return
    message = update.message  # another group or a channel: only a command gets an answer
    if message is None or not (message.text or "").startswith("/"):
        await refuse(update)


async def guard_staff(update: Update, context: Context) -> None:
    """In the staff group, only support members are heard; everyone else is ignored."""
    staff_chat = context.bot_data.staff_chat
    staff_chat.chat_id = support_chat(context)
    if not staff_chat.check_update(update) or update.my_chat_member is not None:
        return
    user = update.effective_user
    if user is None or user.is_bot or not await has_role(h.services_of(context), user.id, SUPPORT):
        raise ApplicationHandlerStop


async def ignore_staff_chat(update: Update, context: Context) -> None:
    """Anything else said in the staff group is not for the bot."""
    if context.bot_data.staff_chat.check_update(update):
        raise ApplicationHandlerStop


def stops(callback: Callback) -> Callback:
    """Run the callback, then stop: no later handler group sees the update."""

    @wraps(callback)
    async def stopping(update: Update, context: Context) -> None:
        await callback(update, context)
        raise ApplicationHandlerStop

    return stopping


def support_chat(context: Context) -> int | None:
    """The staff group's chat id (VOTEBOT_SUPPORT_CHAT), None without support."""
    return h.services_of(context).settings.support_chat


def requires(*roles: str) -> Callable[[Callback], Callback]:
    """Run the callback only for holders of one of `roles` (admins always pass).

    Others get exactly what an unknown command or an expired button gets in a private chat;
    in a group, nothing (a button press only has its spinner stopped).
    """

    def decorate(callback: Callback) -> Callback:
        @wraps(callback)
        async def guarded(update: Update, context: Context) -> None:
            user = update.effective_user
            services = h.services_of(context)
            if user is not None:
                for role in roles:
                    if await has_role(services, user.id, role):
                        await callback(update, context)
                        return
            chat = update.effective_chat
            if chat is None or chat.type != Chat.PRIVATE:
                await refuse(update)
            if update.callback_query is not None:
                await update.callback_query.answer()
                await h._process(update, context, "button", "")
            else:
                await h.on_command(update, context)

        return guarded

    return decorate


def parse_update(raw: object, bot: Bot) -> Update | None:
    """An update from Telegram's JSON, or None when it is malformed (not a crash: the inbox
    worker sets it aside, counted in `votebot stats`, and goes on with the next one)."""
    try:
        return Update.de_json(raw, bot)  # type: ignore[arg-type]
    except Exception:
        log.warning("a malformed update could not be read")
        return None
