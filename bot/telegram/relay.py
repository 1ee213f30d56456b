"""Messages both ways during a handoff: the voter's to their forum topic (held together over
the relay limit), staff's from the topic to the voter, signed "Support"."""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.error import Forbidden
from telegram.ext import ApplicationHandlerStop

from bot import support
from bot.telegram import handlers as h
from bot.telegram import helpdesk
from bot.telegram.context import Context
from bot.telegram.guards import support_chat
from bot.telegram.handoff import hand_back, post_in_topic
from store.support import TranscriptLine

MAX_RELAY = 3500  # characters relayed per message: room for the signature and HTML escapes
HELD_BATCH = 800  # characters of held text per message (x5 at worst once HTML-escaped)


async def relay_voter(update: Update, context: Context) -> None:
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


async def _relay(context: Context, user_id: int, message: Message, secret: bool = False) -> None:
    services = h.services_of(context)
    handoff = await services.store.open_handoff_of(user_id)
    chat_id = support_chat(context)
    if handoff is None or chat_id is None:
        return
    # A secret (in a caption or a file name too): staff get the text without it, never a copy.
    text = h.visible_text(message) if secret else message.text
    limit = context.bot_data.relay_hold
    if not await support.relay_allowed(services.store, handoff, services.clock()):
        # Over the limit: kept in the transcript and held, then relayed together; never lost.
        clean = support.scrub(text) if text else support.ATTACHMENT
        await services.store.record_messages(
            [TranscriptLine(user_id, services.clock(), "in", clean)]
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
    await services.store.record_messages([TranscriptLine(user_id, services.clock(), "in", clean)])
    await services.store.voter_waits(handoff.id, services.clock())

    async def relay(thread: int) -> None:
        if text:
            for part in helpdesk.split(clean, MAX_RELAY):  # long messages in parts, never cut
                body = services.renderer.text("support/from_voter.html", {"text": part})
                await context.bot.send_message(chat_id, body, message_thread_id=thread)
        else:
            await message.copy(chat_id, message_thread_id=thread)

    await post_in_topic(context, handoff, relay)


async def _release_held(context: Context, user_id: int) -> None:
    """After a pause, relay the messages a voter sent over the limit, texts in one message."""
    limit = context.bot_data.relay_hold
    services = h.services_of(context)
    await services.clock.sleep(limit.hold_seconds)
    async with services.engine.lock(user_id):
        held = limit.held.pop(user_id, [])
        limit.warned.discard(user_id)
        handoff = await services.store.open_handoff_of(user_id)
        chat_id = support_chat(context)
        if handoff is None or chat_id is None or not held:
            return
        texts = [t for t, _ in held if t is not None]
        others = [m for t, m in held if t is None]
        await services.store.voter_waits(handoff.id, services.clock())

        async def relay(thread: int) -> None:
            for group in helpdesk.batches(texts, HELD_BATCH):  # split before escaping
                body = services.renderer.text("support/held.html", {"texts": group})
                await context.bot.send_message(chat_id, body, message_thread_id=thread)
            for message in others:
                await message.copy(chat_id, message_thread_id=thread)

        await post_in_topic(context, handoff, relay)


async def on_staff_message(update: Update, context: Context) -> None:
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
