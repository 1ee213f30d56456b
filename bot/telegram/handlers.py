"""Thin handlers: an update becomes an engine event; replies are rendered and sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Chat, ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.engine import Incoming, Kind
from bot.redact import has_secret, plain_name
from bot.services import Services
from bot.support import record_turn
from bot.telegram.send import Undelivered, send_replies

log = logging.getLogger(__name__)
MAX_TEXT = 4096
_background: set[asyncio.Task[None]] = set()  # fire-and-forget calls, kept alive until done


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The shared services stored on the application."""
    return context.application.bot_data["services"]


async def guard_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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


async def _process(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: Kind, value: str
) -> None:
    services = services_of(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    msg = Incoming(user.id, kind, value, plain_name(user.first_name or ""), update.update_id)
    edit = update.callback_query.message if update.callback_query else None
    async with services.engine.lock(user.id):
        outcome = await services.engine.handle(msg)
        if outcome.duplicate:
            log.info("update %s already answered, ignored", update.update_id)
            return
        rendered = [services.renderer.render(reply) for reply in outcome.replies]
        # Transcript for support (secrets removed), from the texts about to be sent.
        await record_turn(services, msg, outcome, [r.text for r in rendered])
        partial: dict[int, int] = context.application.bot_data.setdefault("partly_sent", {})
        try:
            sent = await send_replies(
                services,
                context.bot,
                update.effective_chat.id,
                outcome.replies,
                edit=edit,
                skip=partial.pop(update.update_id, 0),
                rendered=rendered,
            )
        except Undelivered as exc:
            # Left unconfirmed: the replies are sent again when the update comes back.
            log.warning("update %s: Telegram unreachable, replies kept", update.update_id)
            partial[update.update_id] = exc.sent
            context.application.bot_data.setdefault("unsent_updates", set()).add(update.update_id)
            return
        if sent:
            await services.engine.replied(update.update_id)
        for effect in outcome.effects:
            run = context.application.bot_data.get("effects", {}).get(effect)
            if run is not None:
                await run(update, context)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hands a /command (known or not) to the engine; one with a secret argument is deleted."""
    if await delete_secret(update):  # /start 24E1700016XYZ
        await _process(update, context, "secret", "deleted")
        return
    text = update.effective_message.text if update.effective_message else ""
    name = (text or "/").split()[0][1:].split("@")[0].lower()
    await _process(update, context, "command", name)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledges a button press and hands it to the engine."""
    query = update.callback_query
    assert query is not None
    # Only stops the button's spinner: done alongside, so a slow or failing Bot API call
    # (or a query too old after a restart) neither delays nor blocks the answer.
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
    if message is None or not has_secret(visible_text(message)):
        return False
    try:
        await message.delete()
    except TelegramError:
        log.warning("could not delete a message holding a secret in chat %s", message.chat_id)
        return True
    return True


async def _stop_spinner(query) -> None:
    with contextlib.suppress(TelegramError):
        await query.answer()


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hands free text to the engine; secrets are deleted first, never passed on."""
    text = update.message.text if update.message else ""
    if await delete_secret(update):
        await _process(update, context, "secret", "deleted")
        return
    if len(text or "") >= MAX_TEXT:
        await _process(update, context, "unsupported", "too_long")
        return
    await _process(update, context, "text", text or "")


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explains that edited messages are not re-read (and deletes one holding a secret)."""
    if await delete_secret(update):
        await _process(update, context, "secret", "deleted")
        return
    await _process(update, context, "unsupported", "edited")


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers photos, stickers, voice and the like with a short explanation."""
    if await delete_secret(update):  # a caption can hold a secret too
        await _process(update, context, "secret", "deleted")
        return
    await _process(update, context, "unsupported", "media")


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks a voter inactive when they block the bot, active again when they come back."""
    change = update.my_chat_member
    if change is None or change.chat.type != Chat.PRIVATE:
        return
    status = change.new_chat_member.status
    active = status not in (ChatMember.BANNED, ChatMember.LEFT)
    await services_of(context).store.set_active(change.from_user.id, active)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the failure with its traceback and tells the voter politely."""
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
