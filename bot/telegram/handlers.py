"""Thin handlers: an update becomes an engine event; replies are rendered and sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from telegram import CallbackQuery, Chat, ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import inbox
from bot.engine import Incoming, Kind
from bot.redact import has_secret, plain_name
from bot.services import Services
from bot.telegram.context import Context
from bot.telegram.send import TelegramPort, call
from bot.turn import run_turn

log = logging.getLogger(__name__)
MAX_TEXT = 4096
SECRET_MARK = "votebot_secret"  # set by bot/telegram/intake.py on an update it masked
# Set by bot/telegram/webhook.py on a button press whose spinner its 200 answer stopped.
ANSWERED_MARK = "votebot_answered"
_background: set[asyncio.Task[None]] = set()  # fire-and-forget calls, kept alive until done


def services_of(context: Context) -> Services:
    """The shared services stored on the application."""
    return context.bot_data.services


async def guard_private(update: Update, context: Context) -> None:
    """Serve private chats only; answer commands in groups once, ignore everything else."""
    chat = update.effective_chat
    if update.my_chat_member is not None:
        return
    if chat is None or update.effective_user is None or update.effective_user.is_bot:
        raise ApplicationHandlerStop
    if chat.type == Chat.PRIVATE:
        return
    message = update.message
    if message is not None and message.text and message.text.startswith("/"):
        text = services_of(context).renderer.text("common/private_only.html")
        await message.reply_text(text)
    raise ApplicationHandlerStop


async def _process(update: Update, context: Context, kind: Kind, value: str) -> None:
    """Run the voter's turn with this chat as its port."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    msg = Incoming(user.id, kind, value, plain_name(user.first_name or ""), update.update_id)
    pressed = update.callback_query.message if update.callback_query else None
    effects = context.bot_data.effects
    port = TelegramPort(
        context.bot,
        chat.id,
        pressed if isinstance(pressed, Message) else None,
        {name: partial(run, update, context) for name, run in effects.items()},
    )
    await run_turn(services_of(context), msg, port, edit=pressed is not None)


async def on_command(update: Update, context: Context) -> None:
    """Hands a /command (known or not) to the engine; one with a secret argument is deleted."""
    if await delete_secret(update):  # /start 24E1700016XYZ
        await _process(update, context, "secret", "deleted")
        return
    text = update.effective_message.text if update.effective_message else ""
    name = (text or "/").split()[0][1:].split("@")[0].lower()
    await _process(update, context, "command", name)


async def on_button(update: Update, context: Context) -> None:
    """Acknowledges a button press and hands it to the engine."""
    query = update.callback_query
    assert query is not None
    # Only stops the button's spinner: done alongside, so a slow or failing Bot API call
    # (or a query too old after a restart) neither delays nor blocks the answer; not at all
    # when the webhook's answer to Telegram already did.
    if not update.api_kwargs.get(ANSWERED_MARK):
        task = asyncio.create_task(_stop_spinner(query))
        _background.add(task)
        task.add_done_callback(_background.discard)
    await _process(update, context, "button", query.data or "")


def visible_text(message: Message) -> str:
    """Everything a message shows that a voter may paste a secret into: text (command
    arguments included), caption, the file name of a document."""
    document = message.document
    parts = (message.text, message.caption, document.file_name if document else None)
    return "\n".join(p for p in parts if p)


async def delete_secret(update: Update) -> bool:
    """Delete a message holding a NUMEN, password or vote code; True if it held one."""
    message = update.effective_message
    if message is None:
        return False
    masked = bool(update.api_kwargs.get(SECRET_MARK))  # masked on receipt (telegram/intake.py)
    job = inbox.current.get()
    scanned = job is not None and job.update_id == update.update_id  # read by the intake
    if not masked and (scanned or not has_secret(visible_text(message))):
        return False
    try:
        await message.delete()
    except TelegramError:
        log.warning("could not delete a message holding a secret in chat %s", message.chat_id)
        return True
    return True


async def _stop_spinner(query: CallbackQuery) -> None:
    with contextlib.suppress(TelegramError):
        await call(query.get_bot(), "answerCallbackQuery", {"callback_query_id": query.id})


async def on_text(update: Update, context: Context) -> None:
    """Hands free text to the engine; secrets are deleted first, never passed on."""
    text = update.message.text if update.message else ""
    if await delete_secret(update):
        await _process(update, context, "secret", "deleted")
        return
    if len(text or "") >= MAX_TEXT:
        await _process(update, context, "unsupported", "too_long")
        return
    await _process(update, context, "text", text or "")


async def on_edited(update: Update, context: Context) -> None:
    """Explains that edited messages are not re-read (and deletes one holding a secret)."""
    if await delete_secret(update):
        await _process(update, context, "secret", "deleted")
        return
    await _process(update, context, "unsupported", "edited")


async def on_other(update: Update, context: Context) -> None:
    """Answers photos, stickers, voice and the like with a short explanation."""
    if await delete_secret(update):  # a caption can hold a secret too
        await _process(update, context, "secret", "deleted")
        return
    await _process(update, context, "unsupported", "media")


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Marks a voter inactive when they block the bot, active again when they come back."""
    change = update.my_chat_member
    if change is None or change.chat.type != Chat.PRIVATE:
        return
    status = change.new_chat_member.status
    active = status not in (ChatMember.BANNED, ChatMember.LEFT)
    await services_of(context).store.set_active(change.from_user.id, active)


async def on_error(update: object, context: Context) -> None:
    """Logs the failure with its traceback and tells the voter politely (from the inbox: the
    update is tried again, and the voter told only if it is finally set aside)."""
    job = inbox.current.get()
    if job is not None and isinstance(update, Update) and job.update_id == update.update_id:
        log.warning("update %s failed, will be retried", update.update_id, exc_info=context.error)
        job.failed = True
        return
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != Chat.PRIVATE:
        return
    try:
        text = services_of(context).renderer.text("common/error.html")
        await context.bot.send_message(update.effective_chat.id, text)
    except Exception:  # the error message itself failed: nothing more to do
        log.warning("could not send the error message to chat %s", update.effective_chat.id)
