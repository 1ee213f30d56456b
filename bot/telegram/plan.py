"""Admins review and switch on the calendar reminders in Telegram (/calendrier)."""

from __future__ import annotations

import copy
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.auth import ADMIN
from bot.broadcast import default_plan, ensure_plan
from bot.election import Election
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.guards import requires
from store import Broadcast

PREFIX = "pl:"  # callback data: pl:<key> toggles one reminder
TEMPLATE = "reminders/calendar.html"


async def _screen(services: Services) -> tuple[str, InlineKeyboardMarkup | None]:
    now = services.clock()
    await ensure_plan(services.store, services.renderer, services.election, now)
    plan = await services.store.planned_reminders()
    text = services.renderer.text(TEMPLATE, {"plan": plan, "now": now})
    rows = [
        [
            InlineKeyboardButton(
                html.unescape(
                    services.renderer.label(
                        TEMPLATE, "on" if b.state == "scheduled" else "off", {"key": b.plan_key}
                    )
                ),
                callback_data=f"{PREFIX}{b.plan_key}",
            )
        ]
        for b in plan
        if _switchable(b) and b.send_at > now
    ]
    return text, InlineKeyboardMarkup(rows) if rows else None


def _switchable(b: Broadcast) -> bool:
    """Planned or scheduled, or cancelled before it started (it can be enabled again)."""
    return b.state in ("planned", "scheduled") or (b.state == "cancelled" and b.started_at is None)


@requires(ADMIN)
async def on_calendar(update: Update, context: Context) -> None:
    """Shows the calendar reminders with a button each to switch it on or off."""
    assert update.effective_message is not None
    text, markup = await _screen(h.services_of(context))
    await update.effective_message.reply_text(text, reply_markup=markup)


@requires(ADMIN)
async def on_toggle(update: Update, context: Context) -> None:
    """Switches one calendar reminder on or off, then shows the plan again."""
    query = update.callback_query
    assert query is not None and query.data is not None
    services = h.services_of(context)
    key = query.data.removeprefix(PREFIX)
    plan = {b.plan_key: b for b in await services.store.planned_reminders()}
    reminder = plan.get(key)
    now = services.clock()
    if reminder is not None and _switchable(reminder) and reminder.send_at > now:
        await services.store.enable_reminder(key, reminder.state != "scheduled")
        await services.refresh_live()  # voters' screens promise only the reminders switched on
    await query.answer()
    text, markup = await _screen(services)
    if isinstance(query.message, Message):  # not an inaccessible (too old) message
        await query.message.edit_text(text, reply_markup=markup)


async def follow_facts(services: Services, old: Election) -> int:
    """After an election fact changed: re-time and re-word the calendar reminders nobody edited.

    A reminder keeps an admin's own text or time; only what still equals the plan derived from
    the old facts follows the new ones. Reminders a new date makes possible are added
    (switched off). Returns how many reminders changed.
    """
    before = copy.copy(services.renderer)
    before.election = old
    old_plan = {p.key: p for p in default_plan(old)}
    new_plan = {p.key: p for p in default_plan(services.election)}
    changed = 0
    for b in await services.store.planned_reminders():
        key = b.plan_key
        if key not in old_plan or key not in new_plan or b.state not in ("planned", "scheduled"):
            continue
        template = f"reminders/plan_{key}.html"
        text = services.renderer.text(template)
        new_text = text if b.text == before.text(template) and b.text != text else None
        at = new_plan[key].send_at
        new_at = at if b.send_at == old_plan[key].send_at and b.send_at != at else None
        if (new_text or new_at) and await services.store.edit_reminder(
            key, text=new_text, send_at=new_at
        ):
            changed += 1
    await ensure_plan(services.store, services.renderer, services.election, services.clock())
    return changed
