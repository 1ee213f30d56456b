"""What a broadcaster chooses: the audience (combined criteria) and the send time."""

from __future__ import annotations

from datetime import datetime

from bot.election import Category, Election
from store import Audience
from store.progress import ITEMS

_WHEN_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%Y-%m-%d %H:%M")


def parse_when(text: str, election: Election) -> datetime | None:
    """A date-time typed by a broadcaster (Paris time unless an offset is given), or None."""
    value = " ".join(text.strip().split())
    for fmt in _WHEN_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=election.tz)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=election.tz)


def check_when(at: datetime, now: datetime, election: Election) -> str | None:
    """Why a send time cannot be used (`past`, `after_close`), or None when it can."""
    if at <= now:
        return "past"
    if at >= election.calendar.closes_at():
        return "after_close"
    return None


def audience_choices(election: Election, key: str) -> tuple[str, ...]:
    """The values a broadcaster can pick for one audience criterion."""
    if key == "category":
        return tuple(c.value for c in Category)
    if key == "departement":
        return election.departements
    if key == "not_done":
        return tuple(i for i in ITEMS if i != "identifier")
    return ()


def parse_audience(text: str, election: Election) -> Audience:
    """An audience typed by an operator (`all`, or `category=aesh,departement=93,not_done=voted`).

    Values are case-insensitive; `progress=` (which read as "has done") is refused with the
    name to use instead. ValueError names what is wrong.
    """
    if any(p.strip().partition("=")[0].strip() == "progress" for p in text.split(",")):
        raise ValueError(
            "progress=STEP is ambiguous: write not_done=STEP for the voters who have NOT "
            "done that step yet (e.g. not_done=voted)"
        )
    parts = []
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        value = value.strip().lower().replace(" ", "_").replace("-", "_")
        parts.append(f"{key.strip()}{sep}{value}")
    audience = Audience.parse(",".join(parts))
    for key, value in audience.criteria:
        choices = audience_choices(election, key)
        if value not in choices:
            raise ValueError(f"bad {key} {value!r} (choices: {', '.join(choices)})")
    return audience
