"""Times shown to people: always Europe/Paris, whatever the store or the clock holds."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris(value: date | datetime) -> date | datetime:
    """An aware date-time in Paris time; naive ones are already local, dates pass unchanged."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return value
    return value.astimezone(PARIS)


def paris_iso(value: datetime) -> str:
    """A date-time for a terminal line, Paris time to the minute (2026-12-10T17:00+01:00)."""
    moment = paris(value)
    assert isinstance(moment, datetime)
    return moment.isoformat(timespec="minutes")
