"""The helpdesk in the staff group: claimed chats, internal notes, canned answers, the queue,
waiting alerts and staff help. The voter's satisfaction question is in satisfaction.py."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, Forbidden

from bot import support
from bot.flows import Reply
from bot.leases import Lease, hold
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.guards import requires
from store.support import Handoff, TranscriptLine

log = logging.getLogger(__name__)
SUPPORT = "support"
CLAIM_PREFIX = "hd:claim:"  # hd:claim:<handoff id>
ALERT_LEASE_SECONDS = 90  # the alert job runs every minute in one process
NOTE_MARK = "#"  # a topic message starting with it is an internal note
# /reponse KEY: the bot's own answer for a topic (guide steps), sent to the voter.
CANNED = {
    "captcha": "portal.captcha_help",
    "portail": "portal.open_portal",
    "mail": "portal.email_missing",
    "identifiant": "webmel.has_address",
    "webmel": "webmel.forgot_password",
    "numen": "webmel.numen_where",
    "motdepasse": "password.rules",
    "oubli": "lost_password.how",
    "question": "secret.why",
    "notice": "notice.where",
    "code": "lost_code.how",
    "dates": "info.dates",
    "voter": "vote.how",
    "liste": "roll.how",
}
STAFF_COMMANDS = ("file", "voir", "note", "reponse", "liberer", "fermer", "bannir", "stats",
                  "bloques", "aide")  # fmt: skip


def _services(context: Context) -> Services:
    return h.services_of(context)


def split(text: str, size: int) -> list[str]:
    """Cut a long text into parts of at most `size` characters, at a line or a space."""
    parts = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        if cut < size // 2:
            cut = text.rfind(" ", 0, size)
        if cut < size // 2:
            cut = size
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text or not parts else parts


def batches(texts: list[str], size: int) -> list[list[str]]:
    """Texts grouped so that each group holds at most `size` characters (long ones split)."""
    groups: list[list[str]] = [[]]
    used = 0
    for text in (part for t in texts for part in split(t, size)):
        if groups[-1] and used + len(text) > size:
            groups.append([])
            used = 0
        groups[-1].append(text)
        used += len(text)
    return [g for g in groups if g]


def claim_button(services: Services, handoff: Handoff) -> InlineKeyboardMarkup | None:
    """The card's "Prendre en charge" button while nobody has the chat."""
    if handoff.agent_id is not None:
        return None
    label = html.unescape(services.renderer.label("support/claim.html", "claim"))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{CLAIM_PREFIX}{handoff.id}")]]
    )


async def _post(context: Context, thread: int | None, text: str) -> None:
    chat_id = _services(context).settings.support_chat
    if chat_id is None:
        return
    try:
        await context.bot.send_message(chat_id, text, message_thread_id=thread)
    except BadRequest as exc:
        log.info("could not post in topic %s: %s", thread, exc)


async def claim(context: Context, handoff: Handoff, agent: User) -> tuple[Handoff, bool]:
    """Give the chat to `agent` unless someone has it; (handoff, whether `agent` has it)."""
    services = _services(context)
    if handoff.agent_id is not None:
        return handoff, handoff.agent_id == agent.id
    name = agent.first_name or str(agent.id)
    after = await services.store.claim_handoff(handoff.id, agent.id, name, services.clock())
    if after is None or after.agent_id != agent.id:
        return after or handoff, False
    # This agent won the claim: said once to the topic, the voter, and in the topic's name.
    text = services.renderer.text("support/claimed.html", {"agent": name})
    await _post(context, handoff.thread_id, text)
    await _rename(context, after)
    try:
        notice = services.renderer.text("support/claimed_voter.html", {"agent": name})
        await context.bot.send_message(handoff.user_id, notice)
    except Forbidden:
        await unreachable_thread(context, handoff.thread_id)
    return after, True


async def _rename(context: Context, handoff: Handoff) -> None:
    services = _services(context)
    chat_id = services.settings.support_chat
    if chat_id is None or handoff.thread_id is None:
        return
    user = await services.store.get_user(handoff.user_id)
    ctx = {
        "first_name": user.first_name if user else "",
        "user_id": handoff.user_id,
        "agent_name": handoff.agent_name,
    }
    name = html.unescape(services.renderer.text("support/topic_name.html", ctx))[:128]
    try:
        await context.bot.edit_forum_topic(chat_id, handoff.thread_id, name=name)
    except BadRequest as exc:
        log.info("could not rename topic %s: %s", handoff.thread_id, exc)


async def held_back(context: Context, message: Message, handoff: Handoff, staff: User) -> bool:
    """Whether a staff message in a topic stays there: a note, or another agent's chat.

    The first agent to answer an unclaimed chat claims it.
    """
    services = _services(context)
    text = message.text or ""
    if text.startswith(NOTE_MARK):
        await _note(context, handoff, staff, text.removeprefix(NOTE_MARK).strip())
        return True
    handoff, mine = await claim(context, handoff, staff)
    if not mine:
        busy = services.renderer.text("support/taken.html", {"agent": handoff.agent_name})
        await message.reply_text(busy)
        return True
    return False


async def _note(context: Context, handoff: Handoff, staff: User, text: str) -> None:
    services = _services(context)
    line = f"{staff.first_name or staff.id} : {support.scrub(text)}"
    now = services.clock()
    await services.store.record_messages([TranscriptLine(handoff.user_id, now, "note", line)])


async def unreachable(context: Context, message: Message) -> None:
    """Tell the topic that the voter blocked the bot: nothing reaches them."""
    await unreachable_thread(context, message.message_thread_id)


async def unreachable_thread(context: Context, thread: int | None) -> None:
    """Tell a topic that its voter cannot be reached."""
    await _post(context, thread, _services(context).renderer.text("support/unreachable.html"))


async def topic_handoff(update: Update, context: Context) -> Handoff | None:
    """The handoff of the staff topic a command was typed in (else says there is none)."""
    services = _services(context)
    message = update.effective_message
    thread = message.message_thread_id if message and message.is_topic_message else None
    handoff = await services.store.handoff_by_thread(thread) if thread else None
    if handoff is None and message is not None:
        await message.reply_text(services.renderer.text("support/no_handoff.html"))
    return handoff


# -- staff commands in a topic -------------------------------------------------------------


async def on_note(update: Update, context: Context) -> None:
    """/note TEXT in a topic: an internal note, kept with the transcript, never relayed."""
    handoff = await topic_handoff(update, context)
    if handoff is None or update.effective_user is None or update.effective_message is None:
        return
    text = " ".join(context.args or [])
    if text:
        await _note(context, handoff, update.effective_user, text)
    usage = _services(context).renderer.text("support/noted.html", {"empty": not text})
    await update.effective_message.reply_text(usage)


async def on_release(update: Update, context: Context) -> None:
    """/liberer in a topic: the agent hands the chat over; anyone may claim it again."""
    services = _services(context)
    handoff = await topic_handoff(update, context)
    if handoff is None or update.effective_message is None:
        return
    released = await services.store.release_handoff(handoff.id)
    after = await services.store.handoff_by_thread(handoff.thread_id or 0) or handoff
    text = services.renderer.text("support/released.html", {"released": released})
    await update.effective_message.reply_text(text, reply_markup=claim_button(services, after))
    if released:
        await _rename(context, after)


async def on_canned(update: Update, context: Context) -> None:
    """/reponse KEY in a topic: sends the voter the bot's own answer for that topic."""
    services = _services(context)
    handoff = await topic_handoff(update, context)
    message, staff = update.effective_message, update.effective_user
    if handoff is None or message is None or staff is None:
        return
    key = (context.args or [""])[0].lower()
    if key not in CANNED:
        text = services.renderer.text("support/canned_usage.html", {"keys": sorted(CANNED)})
        await message.reply_text(text)
        return
    handoff, mine = await claim(context, handoff, staff)
    if not mine:
        busy = services.renderer.text("support/taken.html", {"agent": handoff.agent_name})
        await message.reply_text(busy)
        return
    user = await services.store.get_user(handoff.user_id)
    done = await services.store.progress_of(handoff.user_id)
    profile = {
        "first_name": user.first_name if user else "",
        "category": user.category if user else None,
        "departement": user.departement if user else None,
        "reminders": user.reminders if user else None,
    }
    context_ = {"data": {}, "profile": profile, "progress": sorted(done)}
    flow, _, step = CANNED[key].partition(".")
    answer = services.renderer.render(Reply(f"{flow}/{step}.html", context_)).text
    try:
        await context.bot.send_message(handoff.user_id, answer)
    except Forbidden:
        await services.store.set_active(handoff.user_id, False)
        await unreachable(context, message)
        return
    now = services.clock()
    line = support.scrub(f"[{key}] " + answer)[:500]
    await services.store.record_messages([TranscriptLine(handoff.user_id, now, "staff", line)])
    await services.store.staff_answered(handoff.id, now)
    await message.reply_text(services.renderer.text("support/canned_sent.html", {"key": key}))


@requires(SUPPORT)
async def on_claim_button(update: Update, context: Context) -> None:
    """The card's "Prendre en charge": one agent wins; the others are told who has it."""
    services = _services(context)
    query, agent = update.callback_query, update.effective_user
    assert query is not None and agent is not None
    handoff_id = int((query.data or "").removeprefix(CLAIM_PREFIX) or 0)
    queue = {e.handoff_id: e for e in await services.store.support_queue()}
    entry = queue.get(handoff_id)
    handoff = await services.store.open_handoff_of(entry.user_id) if entry else None
    if handoff is None:
        await query.answer(services.renderer.label("support/claim.html", "closed"))
        return
    handoff, mine = await claim(context, handoff, agent)
    if mine:
        await query.answer()
        message = query.message
        summary = await support.voter_summary(services, handoff.user_id, support.CARD_LINES)
        if message is not None and summary is not None:  # the card now names who has it
            card = services.renderer.text(
                "support/card.html", {**summary, "opened_by": handoff.opened_by}
            )
            try:
                await context.bot.edit_message_text(card, message.chat.id, message.message_id)
            except BadRequest as exc:
                log.info("could not update the card: %s", exc)
    else:
        await query.answer(
            services.renderer.label("support/claim.html", "taken", {"agent": handoff.agent_name}),
            show_alert=True,
        )


# -- the whole group -----------------------------------------------------------------------


async def on_queue(update: Update, context: Context) -> None:
    """/file: open chats, voters waiting for an answer first, with how long they wait."""
    services = _services(context)
    message = update.effective_message
    assert message is not None
    now = services.clock()
    rows = [
        {
            "entry": e,
            "waits": support.format_duration(now - e.waiting_since) if e.waiting_since else "",
            "open_for": support.format_duration(now - e.opened_at),
        }
        for e in await services.store.support_queue()
    ]
    await message.reply_text(services.renderer.text("support/queue.html", {"rows": rows}))


async def on_staff_help(update: Update, context: Context) -> None:
    """/aide in the staff group: the staff commands."""
    services = _services(context)
    assert update.effective_message is not None
    text = services.renderer.text(
        "support/staff_help.html", {"alert_minutes": services.settings.support_alert_minutes}
    )
    await update.effective_message.reply_text(text)


async def alert_job(context: Context) -> None:
    """Scheduled: tell the group about voters waiting longer than VOTEBOT_SUPPORT_ALERT_MINUTES."""
    services = context.bot_data.services
    minutes = services.settings.support_alert_minutes
    if services.settings.support_chat is None or not minutes:
        return
    async with hold(
        Lease(services.store, "support-alerts", ALERT_LEASE_SECONDS, clock=services.clock.real)
    ) as mine:
        if mine:  # one process alerts, when several share the database
            await _alert_overdue(context, services, minutes)


async def _alert_overdue(context: Context, services: Services, minutes: int) -> None:
    now = services.clock()
    for handoff in await services.store.overdue_handoffs(now - timedelta(minutes=minutes)):
        user = await services.store.get_user(handoff.user_id)
        assert handoff.waiting_since is not None
        ctx = {
            "first_name": user.first_name if user else "",
            "user_id": handoff.user_id,
            "waits": support.format_duration(now - handoff.waiting_since),
            "agent": handoff.agent_name,
        }
        await _post(context, None, services.renderer.text("support/alert.html", ctx))
        await services.store.mark_alerted(handoff.id, now)
