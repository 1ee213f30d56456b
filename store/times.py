"""Date-times are stored as ISO-8601 text in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(value: datetime) -> str:
    """An aware date-time as UTC ISO text."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(value: str) -> datetime:
    """ISO text from the database as an aware date-time."""
    return datetime.fromisoformat(value)
