"""Live election facts: what operators set while the bot runs, over the configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.election import (
    AWAITED,
    FACTS,
    ConfigError,
    Election,
    fact_value,
    format_fact,
    parse_fact,
    with_facts,
)
from store import Store
from store.broadcasts import Audience

log = logging.getLogger(__name__)

DRAFT_PREFIX = "published_"  # plan key of the broadcast drafted when a fact is published
DRAFT_DELAY = timedelta(hours=2)  # the draft's send time, for a broadcaster to review first


@dataclass(frozen=True)
class Change:
    """The outcome of `set_fact`: the new election, the fact before and after."""

    election: Election
    key: str
    before: Any
    after: Any
    drafted: str | None = None  # plan key of the broadcast drafted for review, if any

    @property
    def published(self) -> bool:
        """True when a fact voters were waiting for has just been published."""
        return self.key in AWAITED and self.before is None and self.after is not None


async def effective(store: Store, base: Election) -> Election:
    """The configuration with the facts stored for it applied (an invalid one is skipped)."""
    election = base
    for key, value in (await store.election_current(base.id)).items():
        if key not in FACTS:
            continue
        try:
            election = with_facts(election, {key: parse_fact(key, value or "-")})
        except ConfigError as exc:
            log.warning("stored election fact %s ignored: %s", key, exc)
    return election


async def set_fact(
    store: Store, current: Election, key: str, text: str, by: int | None, now: datetime
) -> Change:
    """Validate and store one fact; raises ConfigError naming the problem (nothing stored)."""
    value = parse_fact(key, text)
    election = with_facts(current, {key: value})
    stored = None if value is None else format_fact(value)
    await store.election_set(current.id, key, stored, by, now)
    return Change(election, key, fact_value(current, key), fact_value(election, key))


async def draft_broadcast(store: Store, key: str, text: str, now: datetime) -> str:
    """Plan (never enable) a broadcast to voters who have not voted; returns its plan key.

    It waits, switched off, for a person to review it and switch it on (/calendrier).
    """
    plan_key = f"{DRAFT_PREFIX}{key}"
    audience = Audience(not_done="voted")
    if not await store.plan_reminder(plan_key, text, audience, now + DRAFT_DELAY, now):
        await store.edit_reminder(plan_key, text=text, send_at=now + DRAFT_DELAY)
    return plan_key


def check(election: Election) -> list[tuple[str, str]]:
    """What an operator must still do: (fact, "missing" | "unverified"), facts first."""
    rows = [(key, "missing") for key in election.missing()]
    rows += [(key, "unverified") for key in election.unverified]
    return rows
