"""Support staff in Telegram: the staff group, handoffs in forum topics, /stats, /bloques, /voir,
and the voter's /oubli. The logic without Telegram calls is in bot/support.py."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from bot import bans, support
from bot.auth import has_role
from bot.engine import Incoming
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram import helpdesk, satisfaction
from bot.telegram.guards import requires
from bot.telegram.send import send_replies
from store.support import Handoff, TranscriptLine

log = logging.getLogger(__name__)
SUPPORT = "support"
OPEN_PREFIX = "sup:open:"
MAX_RELAY = 3500  # characters relayed per message: room for the signature and HTML escapes
HOLD_SECONDS = 20.0  # messages sent over the relay limit are relayed together after this
HELD_BATCH = 800  # characters of held text per message (x5 at worst once HTML-escaped)
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class StaffChat(filters.UpdateFilter):
    """Updates from the staff supergroup; its id (VOTEBOT_SUPPORT_CHAT) is set by `guard_staff`."""

    def __init__(self) -> None:
        super().__init__(name="StaffChat")
        self.chat_id: int | None = None

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        return self.chat_id is not None and chat is not None and chat.id == self.chat_id


class _Limiter:
    """Messages held over the relay limit (the limit itself is read from the database), with a
    single warning per burst."""

    def __init__(self) -> None:
        self.warned: set[int] = set()
        # Messages over the limit, relayed together after `hold_seconds`: (text, message).
        self.held: dict[int, list[tuple[str | None, Message]]] = {}
        self.hold_seconds = HOLD_SECONDS
        self.tasks: set[asyncio.Task[None]] = set()


def setup(bot_data: dict) -> StaffChat:
    """Shared state of the support handlers; returns the staff-group filter."""
    bot_data["staff_chat"] = StaffChat()
    bot_data["relay_limit"] = _Limiter()
    return bot_data["staff_chat"]


def stops(callback: Callback) -> Callback:
    """Run the callback, then stop: no later handler group sees the update."""

    @wraps(callback)
    async def stopping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await callback(update, context)
        raise ApplicationHandlerStop

    return stopping


def _support_chat(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    return h.services_of(context).settings.support_chat


# -- staff group ---------------------------------------------------------------------------


async def guard_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In the staff group, only support members are heard; everyone else is ignored."""
    staff_chat: StaffChat = context.bot_data["staff_chat"]
    staff_chat.chat_id = _support_chat(context)
    if not staff_chat.check_update(update) or update.my_chat_member is not None:
        return
    user = update.effective_user
    if user is None or user.is_bot or not await has_role(h.services_of(context), user.id, SUPPORT):
        raise ApplicationHandlerStop


async def ignore_staff_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else said in the staff group is not for the bot."""
    if context.bot_data["staff_chat"].check_update(update):
        raise ApplicationHandlerStop


async def on_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Relays what staff write in a voter's topic to that voter, signed "Support"."""
    services = h.services_of(context)
    message = update.effective_message
    if message is None or not message.is_topic_message or message.message_thread_id is None:
        return
    if (message.text or "").startswith("/"):
        return
    handoff = await services.store.handoff_by_thread(message.message_thread_id)
    if handoff is None:
        await message.reply_text(services.renderer.text("support/no_handoff.html"))
        return
    staff = update.effective_user
    if staff is None or await helpdesk.held_back(context, message, handoff, staff):
        return  # an internal note, or a chat another agent has
    name = staff.first_name if staff and services.settings.support_sign_name else ""
    try:
        if message.text:
            for part in helpdesk.split(message.text, MAX_RELAY):  # long replies in parts
                text = services.renderer.text(
                    "support/from_staff.html", {"text": part, "name": name}
                )
                await context.bot.send_message(handoff.user_id, text)
            line = support.scrub(message.text)
        else:
            await message.copy(handoff.user_id)
            line = support.ATTACHMENT
    except Forbidden:
        await services.store.set_active(handoff.user_id, False)
        await helpdesk.unreachable(context, message)
        return
    now = services.clock()
    await services.store.record_messages([TranscriptLine(handoff.user_id, now, "staff", line)])
    await services.store.staff_answered(handoff.id, now)


async def on_close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/fermer in a topic: hands the voter back to the bot and tells both sides."""
    handoff = await _topic_handoff(update, context)
    if handoff is not None:
        user = update.effective_user
        await hand_back(context, handoff, "staff", user.id if user else None)


async def on_ban(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bannir in a topic: the voter is no longer relayed to support."""
    handoff = await _topic_handoff(update, context)
    if handoff is None:
        return
    services = h.services_of(context)
    user = update.effective_user
    await services.store.ban_voter(handoff.user_id, user.id if user else None, _now(services))
    await hand_back(context, handoff, "ban", user.id if user else None)


async def _topic_handoff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Handoff | None:
    services = h.services_of(context)
    message = update.effective_message
    thread = message.message_thread_id if message and message.is_topic_message else None
    handoff = await services.store.handoff_by_thread(thread) if thread else None
    if handoff is None and message is not None:
        await message.reply_text(services.renderer.text("support/no_handoff.html"))
    return handoff


# -- monitoring (staff group or private) ---------------------------------------------------


@requires(SUPPORT)
async def on_open_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The take-over button of /bloques: opens a topic for that voter at once."""
    services = h.services_of(context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    user_id = int((query.data or "").removeprefix(OPEN_PREFIX) or 0)
    reason = await staff_open(context, user_id, update.effective_user.id)
    text = services.renderer.text(
        "support/opened.html", {"ok": reason is None, "reason": reason, "user_id": user_id}
    )
    if query.message is not None:
        await context.bot.send_message(
            query.message.chat.id,
            text,
            message_thread_id=getattr(query.message, "message_thread_id", None),
        )


async def staff_open(context: ContextTypes.DEFAULT_TYPE, user_id: int, by: int) -> str | None:
    """Open a handoff for a voter on staff's initiative; the reason when it cannot be done."""
    services = h.services_of(context)
    if _support_chat(context) is None:
        return "no_chat"
    if await services.store.get_user(user_id) is None:
        return "unknown"
    if await services.store.is_banned(user_id, _now(services)):
        return "banned"
    async with services.engine.lock(user_id):
        handoff = await services.store.open_handoff(user_id, _now(services), by)
        await ensure_topic(context, handoff)
    try:
        await context.bot.send_message(
            user_id, services.renderer.text("support/staff_opened.html")
        )
    except Forbidden:
        await services.store.set_active(user_id, False)
        return "unreachable"  # opened, but nothing will reach them
    return None


# -- the voter's side ----------------------------------------------------------------------


async def on_handoff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Effect of step human.requested: open a handoff; a topic once the voter has written."""
    services = h.services_of(context)
    user = update.effective_user
    assert user is not None
    refusal = "support/unavailable.html" if _support_chat(context) is None else None
    refusal = refusal or await bans.handoff_refusal(services, user.id)  # banned, too many
    if refusal is not None:
        await context.bot.send_message(user.id, services.renderer.text(refusal))
        return
    handoff = await services.store.open_handoff(user.id, _now(services))
    if handoff.thread_id is None and await services.store.has_written(user.id):
        await ensure_topic(context, handoff)


async def relay_voter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """While a handoff is open, the voter's messages go to their topic and the bot stays quiet.

    /menu, /start or any button hands the voter back to the bot first.
    """
    services = h.services_of(context)
    user = update.effective_user
    if user is None:
        return
    handoff = await services.store.open_handoff_of(user.id)
    if handoff is None:
        return
    message = update.message
    text = message.text if message is not None else None
    if update.callback_query is not None or (text or "").split(" ")[0] in ("/menu", "/start"):
        await hand_back(context, handoff, "voter", None)
        return  # the bot answers the command or button as usual
    secret = await h.delete_secret(update)
    if message is None:  # an edited message: not re-read, not relayed (deleted if a secret)
        if secret:
            notice = services.renderer.text("common/secret_removed.html", {"deleted": True})
            await context.bot.send_message(user.id, notice)
        raise ApplicationHandlerStop
    if secret:  # deleted from the voter's chat; staff get the text without it, never a copy
        notice = services.renderer.text("common/secret_removed.html", {"deleted": True})
        await context.bot.send_message(user.id, notice)
    async with services.engine.lock(user.id):  # one topic even for messages sent together
        await _relay(context, user.id, message, secret)
    raise ApplicationHandlerStop


async def _relay(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, message: Message, secret: bool = False
) -> None:
    services = h.services_of(context)
    handoff = await services.store.open_handoff_of(user_id)
    chat_id = _support_chat(context)
    if handoff is None or chat_id is None:
        return
    # A secret (in a caption or a file name too): staff get the text without it, never a copy.
    text = h.visible_text(message) if secret else message.text
    limit: _Limiter = context.bot_data["relay_limit"]
    if not await support.relay_allowed(services.store, handoff, _now(services)):
        # Over the limit: kept in the transcript and held, then relayed together; never lost.
        clean = support.scrub(text) if text else support.ATTACHMENT
        await services.store.record_messages(
            [TranscriptLine(user_id, _now(services), "in", clean)]
        )
        limit.held.setdefault(user_id, []).append((clean if text else None, message))
        if user_id not in limit.warned:
            limit.warned.add(user_id)
            await message.reply_text(services.renderer.text("support/slow_down.html"))
            task = asyncio.create_task(_release_held(context, user_id))
            limit.tasks.add(task)  # kept alive until done
            task.add_done_callback(limit.tasks.discard)
        return
    limit.warned.discard(user_id)
    clean = support.scrub(text) if text else support.ATTACHMENT
    await services.store.record_messages([TranscriptLine(user_id, _now(services), "in", clean)])
    await services.store.voter_waits(handoff.id, _now(services))

    async def relay(thread: int) -> None:
        if text:
            for part in helpdesk.split(clean, MAX_RELAY):  # long messages in parts, never cut
                body = services.renderer.text("support/from_voter.html", {"text": part})
                await context.bot.send_message(chat_id, body, message_thread_id=thread)
        else:
            await message.copy(chat_id, message_thread_id=thread)

    await post_in_topic(context, handoff, relay)


async def _release_held(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> None:
    """After a pause, relay the messages a voter sent over the limit, texts in one message."""
    limit: _Limiter = context.bot_data["relay_limit"]
    await asyncio.sleep(limit.hold_seconds)
    services = h.services_of(context)
    async with services.engine.lock(user_id):
        held = limit.held.pop(user_id, [])
        limit.warned.discard(user_id)
        handoff = await services.store.open_handoff_of(user_id)
        chat_id = _support_chat(context)
        if handoff is None or chat_id is None or not held:
            return
        texts = [t for t, _ in held if t is not None]
        others = [m for t, m in held if t is None]
        await services.store.voter_waits(handoff.id, _now(services))

        async def relay(thread: int) -> None:
            for group in helpdesk.batches(texts, HELD_BATCH):  # split before escaping
                body = services.renderer.text("support/held.html", {"texts": group})
                await context.bot.send_message(chat_id, body, message_thread_id=thread)
            for message in others:
                await message.copy(chat_id, message_thread_id=thread)

        await post_in_topic(context, handoff, relay)


async def hand_back(
    context: ContextTypes.DEFAULT_TYPE, handoff: Handoff, by: str, staff_id: int | None
) -> None:
    """Close a handoff, tell the staff topic and (unless they asked to be forgotten) the voter.

    Closed by staff, the voter also gets the menu again.
    """
    services = h.services_of(context)
    if not await services.store.close_handoff(handoff.id, _now(services), staff_id):
        return
    chat_id = _support_chat(context)
    if handoff.thread_id is not None and chat_id is not None:
        note = services.renderer.text("support/closed_staff.html", {"by": by})
        try:
            await context.bot.send_message(chat_id, note, message_thread_id=handoff.thread_id)
            await context.bot.close_forum_topic(chat_id, handoff.thread_id)
        except BadRequest as exc:
            log.info("could not close topic %s: %s", handoff.thread_id, exc)
    if by == "forget":
        return
    try:
        await context.bot.send_message(
            handoff.user_id, services.renderer.text("support/handed_back.html")
        )
        if by == "staff":  # one tap, before the menu comes back
            await satisfaction.ask_satisfaction(context, handoff)
        if by in ("staff", "ban"):
            async with services.engine.lock(handoff.user_id):
                msg = Incoming(handoff.user_id, "command", "menu")
                outcome = await services.engine.handle(msg)
                await support.record_turn(services, msg, outcome)
                await send_replies(services, context.bot, handoff.user_id, outcome.replies)
    except Forbidden:
        await services.store.set_active(handoff.user_id, False)


async def ensure_topic(
    context: ContextTypes.DEFAULT_TYPE, handoff: Handoff, replace: bool = False
) -> int:
    """The handoff's forum topic, created with the voter's summary card when missing."""
    if handoff.thread_id is not None and not replace:
        return handoff.thread_id
    services = h.services_of(context)
    chat_id = _support_chat(context)
    assert chat_id is not None
    summary = await support.voter_summary(services, handoff.user_id, support.CARD_LINES)
    assert summary is not None
    name = html.unescape(services.renderer.text("support/topic_name.html", summary))[:128]
    topic = await context.bot.create_forum_topic(chat_id, name)
    thread = topic.message_thread_id
    await services.store.set_handoff_thread(handoff.id, thread)
    card = services.renderer.text("support/card.html", {**summary, "opened_by": handoff.opened_by})
    await context.bot.send_message(
        chat_id,
        card,
        message_thread_id=thread,
        reply_markup=helpdesk.claim_button(services, handoff),
    )
    return thread


async def post_in_topic(
    context: ContextTypes.DEFAULT_TYPE,
    handoff: Handoff,
    post: Callable[[int], Awaitable[None]],
) -> None:
    """Post into the voter's topic, opening it if needed and recreating it if it was deleted."""
    thread = await ensure_topic(context, handoff)
    try:
        await post(thread)
    except BadRequest as exc:
        if "thread not found" not in str(exc).lower():
            raise
        log.info("topic %s was deleted, opening a new one", thread)
        await post(await ensure_topic(context, handoff, replace=True))


def _now(services: Services):
    return services.clock()
