"""Times shown to people: always Europe/Paris, whatever the store or the clock holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import overload
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@overload
def paris(value: datetime) -> datetime: ...
@overload
def paris(value: date) -> date: ...
def paris(value: date | datetime) -> date | datetime:
    """An aware date-time in Paris time; naive ones are already local, dates pass unchanged."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return value
    return value.astimezone(PARIS)


def paris_iso(value: datetime) -> str:
    """A date-time for a terminal line, Paris time to the minute (2026-12-10T17:00+01:00)."""
    return paris(value).isoformat(timespec="minutes")
