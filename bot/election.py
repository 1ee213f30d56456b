"""The election configuration: a TOML data file, validated once at start-up."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

BUILTIN_DIR = Path(__file__).parent / "elections"


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """A time zone by name, looked up once (calendar checks run on every turn)."""
    return ZoneInfo(name)


class ConfigError(Exception):
    """The election configuration is missing a value or has a bad one."""


class Category(StrEnum):
    """Staff categories, each with its own contact address for roll corrections."""

    PREMIER_DEGRE = "premier_degre"
    SECOND_DEGRE = "second_degre"
    AED = "aed"
    AESH = "aesh"
    ATSS = "atss"


class Phase(StrEnum):
    """Where the election stands at a given moment."""

    BEFORE_PORTAL = "before_portal"
    ACTIVATION = "activation"
    VOTING = "voting"
    CLOSED = "closed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Model):
    """One row of the contact directory: category (× département) → address."""

    category: Category
    departement: str | None = None
    address: str

    @field_validator("address")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value or " " in value:
            raise ValueError("expected an e-mail address")
        return value


class Calendar(_Model):
    """Key dates; naive values are local to `timezone`; None means "not published yet"."""

    timezone: str = "Europe/Paris"
    portal_opens: date | datetime | None = None
    notice_deadline: date | datetime | None = None
    vote_opens: date | datetime
    vote_closes: datetime | None = None
    # The last voting day, when it is known before the closing time is.
    vote_last_day: date | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @field_validator("vote_closes", mode="before")
    @classmethod
    def _closes_has_time(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            raise ValueError("needs a closing time, e.g. 2022-12-08T17:00:00")
        return value

    @model_validator(mode="after")
    def _last_day(self) -> Calendar:
        if self.vote_closes is None and self.vote_last_day is None:
            raise ValueError("vote_closes (or at least vote_last_day) is required")
        if (
            self.vote_closes is not None
            and self.vote_last_day is not None
            and self.at(self.vote_closes).astimezone(zone(self.timezone)).date()
            != self.vote_last_day
        ):
            raise ValueError("vote_closes must fall on vote_last_day")
        return self

    @property
    def closing_day(self) -> date:
        """The last voting day (from the closing time when it is known)."""
        if self.vote_closes is not None:
            return self.at(self.vote_closes).astimezone(zone(self.timezone)).date()
        assert self.vote_last_day is not None
        return self.vote_last_day

    def closes_at(self) -> datetime:
        """The closing instant; while the time is unknown, the end of the last voting day."""
        if self.vote_closes is not None:
            return self.at(self.vote_closes)
        return self.at(self.closing_day + timedelta(days=1))

    @overload
    def at(self, value: date | datetime) -> datetime: ...
    @overload
    def at(self, value: None) -> None: ...
    def at(self, value: date | datetime | None) -> datetime | None:
        """A calendar value as an aware date-time (a bare date means the start of that day)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.combine(value, time(0, 0))
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone(self.timezone))
        return value


class Election(_Model):
    """Everything that changes from one election or académie to the next."""

    id: str
    academie: str
    email_domain: str
    webmel_url: str
    portal_url: str | None = None  # None: not published yet
    roll_ballot: str
    departements: tuple[str, ...]
    numen_prefix: str
    electorate: tuple[str, ...]
    ballot_examples: tuple[str, ...]
    max_ballots: int
    calendar: Calendar
    directory: tuple[Contact, ...]
    # Where each fact comes from (fact key → source), shown by `votebot election check`.
    sources: dict[str, str] = {}
    # Facts still to check against an official text ("à vérifier").
    unverified: tuple[str, ...] = ()
    # A folder of operator templates overriding the built-in ones (relative to the TOML file).
    texts_dir: str | None = None

    @field_validator("webmel_url", "portal_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://") or len(value) <= len("https://") or " " in value:
            raise ValueError("expected an https:// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Election:
        cal = self.calendar
        named = [
            ("portal_opens", cal.at(cal.portal_opens)),
            ("notice_deadline", cal.at(cal.notice_deadline)),
            ("vote_opens", cal.at(cal.vote_opens)),
            ("vote_closes", cal.at(cal.vote_closes)),
        ]
        known = [v for _, v in named if v is not None]
        if known != sorted(known):
            raise ValueError(
                "calendar: portal_opens ≤ notice_deadline ≤ vote_opens ≤ vote_closes is required"
            )
        if cal.at(cal.vote_opens) >= cal.closes_at():
            raise ValueError("calendar: the vote must open before it closes")
        for c in self.directory:
            if c.departement is not None and c.departement not in self.departements:
                raise ValueError(f"directory: unknown departement {c.departement}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The election's time zone."""
        return zone(self.calendar.timezone)

    def phase(self, now: datetime) -> Phase:
        """The phase of the election at `now`."""
        cal = self.calendar
        portal_opens = cal.at(cal.portal_opens)
        if portal_opens is not None and now < portal_opens:
            return Phase.BEFORE_PORTAL
        if now < cal.at(cal.vote_opens):
            return Phase.ACTIVATION
        if now < cal.closes_at():
            return Phase.VOTING
        return Phase.CLOSED

    @property
    def year(self) -> int:
        """The year of the vote (as in "le portail 2026")."""
        return self.calendar.closing_day.year

    def missing(self) -> list[str]:
        """The settable facts not published yet, in the order of `FACTS`."""
        # The last voting day only matters while the closing time is unknown.
        return [k for k in FACTS if k != "vote_last_day" and fact_value(self, k) is None]

    def contact(self, category: Category | str, departement: str | None) -> Contact | None:
        """The address for a category, using the département only where it matters."""
        rows = [c for c in self.directory if c.category == category]
        if len(rows) == 1 and rows[0].departement is None:
            return rows[0]
        return next((c for c in rows if c.departement == departement), None)


def _read(name_or_path: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    path = Path(name_or_path)
    if not path.suffix:
        path = BUILTIN_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")))
        raise ConfigError(f"VOTEBOT_ELECTION: no configuration {name_or_path!r} (known: {known})")
    if str(path) in seen:
        raise ConfigError(f"VOTEBOT_ELECTION: {path} extends itself")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"VOTEBOT_ELECTION: {path}: {exc}") from None
    base = data.pop("extends", None)
    if base is None:
        return data
    merged = _read(base, (*seen, str(path)))
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_election(name_or_path: str) -> Election:
    """Load a built-in configuration by name, or a TOML file (which may `extends` one)."""
    data = _read(name_or_path)
    try:
        election = Election.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(data.get("id", name_or_path)))) from None
    if election.texts_dir is not None and not Path(election.texts_dir).is_absolute():
        base = Path(name_or_path).parent if Path(name_or_path).suffix else BUILTIN_DIR
        election = election.model_copy(update={"texts_dir": str(base / election.texts_dir)})
    return election


# -- facts an operator may set while the bot runs (`/election set`, `votebot election set`) --

# key → (where it sits in the configuration, what it is)
FACTS: dict[str, tuple[str, str]] = {
    "portal_url": ("portal_url", "elections portal address (https)"),
    "webmel_url": ("webmel_url", "academic webmail address (https)"),
    "portal_opens": ("calendar.portal_opens", "portal opening (date or date-time)"),
    "notice_deadline": ("calendar.notice_deadline", "last day notices are handed over (date)"),
    "vote_opens": ("calendar.vote_opens", "vote opening (date or date-time)"),
    "vote_closes": ("calendar.vote_closes", "vote closing (date-time, Paris time)"),
    "vote_last_day": ("calendar.vote_last_day", "last voting day (date)"),
}
# Facts voters wait for: publishing one of these drafts a broadcast for review.
AWAITED = ("portal_url", "portal_opens", "notice_deadline", "vote_closes")


def fact_value(election: Election, key: str) -> Any:
    """The current value of a settable fact (None: not published yet)."""
    path = FACTS[key][0]
    if path.startswith("calendar."):
        return getattr(election.calendar, path.removeprefix("calendar."))
    return getattr(election, path)


def parse_fact(key: str, text: str) -> Any:
    """A typed value for a fact from text ("-" means not published); raises ConfigError."""
    if key not in FACTS:
        raise ConfigError(f"unknown fact {key!r} (known: {', '.join(FACTS)})")
    text = text.strip()
    if text in ("-", ""):
        return None
    if key.endswith("_url"):
        return text
    try:
        if key == "vote_last_day":
            return date.fromisoformat(text)
        if "T" in text or " " in text or ":" in text:
            return datetime.fromisoformat(text.replace(" ", "T"))
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{key}: expected a date (2026-12-03) or a date-time (2026-12-10T17:00)"
        ) from None


def with_facts(election: Election, values: dict[str, Any]) -> Election:
    """The election with some facts replaced, validated like the TOML; raises ConfigError."""
    data = election.model_dump()
    for key, value in values.items():
        path = FACTS[key][0]
        if isinstance(value, str) and not key.endswith("_url"):
            value = parse_fact(key, value)
        if path.startswith("calendar."):
            data["calendar"][path.removeprefix("calendar.")] = value
        else:
            data[path] = value
    try:
        return Election.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, election.id)) from None


def format_fact(value: Any) -> str:
    """A fact as it is typed back (ISO for dates, naive times are Paris), "-" if unknown."""
    if value is None:
        return "-"
    if isinstance(value, datetime | date):
        return value.isoformat(timespec="minutes") if isinstance(value, datetime) else str(value)
    return str(value)


def _describe(exc: ValidationError, name: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "configuration"
    what = str(err["msg"]).removeprefix("Value error, ")
    return f"election {name}: {where}: {what}"


def builtin_names() -> list[str]:
    """The built-in configurations, by name."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def current_builtin(now: datetime) -> str:
    """The built-in configuration whose vote has not closed at `now` (the latest otherwise)."""
    elections = [load_election(name) for name in builtin_names()]
    elections.sort(key=lambda e: e.calendar.closes_at())
    for e in elections:
        if now < e.calendar.closes_at():
            return e.id
    return elections[-1].id
