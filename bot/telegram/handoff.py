"""The handoff's lifecycle in Telegram: opened (by a voter's step or staff's button), its forum
topic with the voter's card, closed by /fermer, /bannir or the voter. Summaries, transcripts
and the relay limit (no Telegram) are in bot/support.py; messages both ways in relay.py."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import BadRequest, Forbidden

from bot import bans, support
from bot.engine import Incoming
from bot.telegram import handlers as h
from bot.telegram import helpdesk, satisfaction
from bot.telegram.context import Context
from bot.telegram.guards import SUPPORT, requires, support_chat
from bot.telegram.send import send_replies
from store.support import Handoff

log = logging.getLogger(__name__)
OPEN_PREFIX = "sup:open:"


async def on_handoff(update: Update, context: Context) -> None:
    """Effect of step human.requested: open a handoff; a topic once the voter has written."""
    services = h.services_of(context)
    user = update.effective_user
    assert user is not None
    refusal = "support/unavailable.html" if support_chat(context) is None else None
    refusal = refusal or await bans.handoff_refusal(services, user.id)  # banned, too many
    if refusal is not None:
        await context.bot.send_message(user.id, services.renderer.text(refusal))
        return
    handoff = await services.store.open_handoff(user.id, services.clock())
    if handoff.thread_id is None and await services.store.has_written(user.id):
        await ensure_topic(context, handoff)


@requires(SUPPORT)
async def on_open_button(update: Update, context: Context) -> None:
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


async def staff_open(context: Context, user_id: int, by: int) -> str | None:
    """Open a handoff for a voter on staff's initiative; the reason when it cannot be done."""
    services = h.services_of(context)
    if support_chat(context) is None:
        return "no_chat"
    if await services.store.get_user(user_id) is None:
        return "unknown"
    if await services.store.is_banned(user_id, services.clock()):
        return "banned"
    async with services.engine.lock(user_id):
        handoff = await services.store.open_handoff(user_id, services.clock(), by)
        await ensure_topic(context, handoff)
    try:
        await context.bot.send_message(
            user_id, services.renderer.text("support/staff_opened.html")
        )
    except Forbidden:
        await services.store.set_active(user_id, False)
        return "unreachable"  # opened, but nothing will reach them
    return None


async def on_close(update: Update, context: Context) -> None:
    """/fermer in a topic: hands the voter back to the bot and tells both sides."""
    handoff = await helpdesk.topic_handoff(update, context)
    if handoff is not None:
        user = update.effective_user
        await hand_back(context, handoff, "staff", user.id if user else None)


async def on_ban(update: Update, context: Context) -> None:
    """/bannir in a topic: the voter is no longer relayed to support."""
    handoff = await helpdesk.topic_handoff(update, context)
    if handoff is None:
        return
    services = h.services_of(context)
    user = update.effective_user
    await services.store.ban_voter(handoff.user_id, user.id if user else None, services.clock())
    await hand_back(context, handoff, "ban", user.id if user else None)


async def hand_back(context: Context, handoff: Handoff, by: str, staff_id: int | None) -> None:
    """Close a handoff, tell the staff topic and (unless they asked to be forgotten) the voter.

    Closed by staff, the voter also gets the menu again.
    """
    services = h.services_of(context)
    if not await services.store.close_handoff(handoff.id, services.clock(), staff_id):
        return
    chat_id = support_chat(context)
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


async def ensure_topic(context: Context, handoff: Handoff, replace: bool = False) -> int:
    """The handoff's forum topic, created with the voter's summary card when missing."""
    if handoff.thread_id is not None and not replace:
        return handoff.thread_id
    services = h.services_of(context)
    chat_id = support_chat(context)
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
    context: Context,
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
