"""The election configuration: a TOML data file, validated once at start-up."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

BUILTIN_DIR = Path(__file__).parent / "elections"


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
    """Key dates; naive values are local to `timezone`."""

    timezone: str = "Europe/Paris"
    portal_opens: date | datetime
    notice_deadline: date | datetime
    vote_opens: date | datetime
    vote_closes: datetime

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

    def at(self, value: date | datetime) -> datetime:
        """A calendar value as an aware date-time (a bare date means the start of that day)."""
        if not isinstance(value, datetime):
            value = datetime.combine(value, time(0, 0))
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return value


class Election(_Model):
    """Everything that changes from one election or académie to the next."""

    id: str
    academie: str
    email_domain: str
    webmel_url: str
    portal_url: str
    roll_ballot: str
    departements: tuple[str, ...]
    numen_prefix: str
    electorate: tuple[str, ...]
    ballot_examples: tuple[str, ...]
    max_ballots: int
    calendar: Calendar
    directory: tuple[Contact, ...]

    @field_validator("webmel_url", "portal_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("expected an https:// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Election:
        cal = self.calendar
        order = [cal.at(cal.portal_opens), cal.at(cal.vote_opens), cal.at(cal.vote_closes)]
        if order != sorted(order):
            raise ValueError("calendar: portal_opens ≤ vote_opens ≤ vote_closes is required")
        for c in self.directory:
            if c.departement is not None and c.departement not in self.departements:
                raise ValueError(f"directory: unknown departement {c.departement}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The election's time zone."""
        return ZoneInfo(self.calendar.timezone)

    def phase(self, now: datetime) -> Phase:
        """The phase of the election at `now`."""
        cal = self.calendar
        if now < cal.at(cal.portal_opens):
            return Phase.BEFORE_PORTAL
        if now < cal.at(cal.vote_opens):
            return Phase.ACTIVATION
        if now < cal.at(cal.vote_closes):
            return Phase.VOTING
        return Phase.CLOSED

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
        return Election.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "configuration"
        what = "missing: not published yet, supply it" if err["type"] == "missing" else err["msg"]
        what = str(what).removeprefix("Value error, ")
        raise ConfigError(f"election {data.get('id', name_or_path)}: {where}: {what}") from None
