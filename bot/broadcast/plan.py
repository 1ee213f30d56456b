"""The calendar plan: reminders derived from the election calendar (enabled by an admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from bot.election import Election
from bot.texts import Renderer
from store import Audience, Store


@dataclass(frozen=True)
class PlannedReminder:
    """One calendar reminder: its key (= template reminders/plan_<key>.html), time, audience."""

    key: str
    send_at: datetime
    audience: Audience


def default_plan(election: Election) -> list[PlannedReminder]:
    """The reminders derived from the election calendar, each to the voters it concerns."""
    cal = election.calendar
    tz = election.tz

    def at(day: date | datetime, hour: int, minute: int = 0) -> datetime:
        if isinstance(day, datetime):
            day = day.astimezone(tz).date() if day.tzinfo else day.date()
        return datetime.combine(day, dtime(hour, minute), tzinfo=tz)

    opens = cal.at(cal.vote_opens).astimezone(tz)
    closes = cal.closes_at().astimezone(tz)
    not_voted = Audience(not_done="voted")
    plan = []
    # A date not published yet has no reminder until an operator sets it (bot.election).
    if cal.portal_opens is not None:
        plan.append(
            PlannedReminder("portal_opens", at(cal.portal_opens, 10), Audience(not_done="account"))
        )
    if cal.notice_deadline is not None:
        notice = cal.at(cal.notice_deadline).astimezone(tz)
        week_before = at(notice - timedelta(days=7), 10)
        plan.append(PlannedReminder("notice_week", week_before, Audience(not_done="vote_code")))
    plan += [
        PlannedReminder("eve", at(opens - timedelta(days=1), 18), not_voted),
        # The opening reminder never goes before the configured opening time.
        PlannedReminder("opening", max(at(opens, 9), opens), not_voted),
        PlannedReminder("last_morning", at(cal.closing_day, 8, 30), not_voted),
    ]
    if cal.vote_closes is not None:
        plan.append(PlannedReminder("last_afternoon", at(cal.closing_day, 14), not_voted))
    # The early-afternoon reminder must come before closing time, whatever it is.
    last = closes - timedelta(hours=3)
    return [
        r
        if r.key != "last_afternoon"
        else PlannedReminder(r.key, min(r.send_at, last), r.audience)
        for r in plan
    ]


async def ensure_plan(store: Store, renderer: Renderer, election: Election, now: datetime) -> int:
    """Store the default plan (not enabled) for keys not stored yet; returns how many added."""
    added = 0
    for item in default_plan(election):
        text = renderer.text(f"reminders/plan_{item.key}.html")
        if await store.plan_reminder(item.key, text, item.audience, item.send_at, now):
            added += 1
    return added
