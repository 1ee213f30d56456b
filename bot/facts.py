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
    """The outcome of `set_fact`: the new election and whether a broadcast was drafted."""

    election: Election
    key: str
    before: Any
    after: Any
    drafted: str | None = None  # plan key of the draft waiting for review


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
    store: Store,
    current: Election,
    key: str,
    text: str,
    by: int | None,
    now: datetime,
    draft_text: str | None = None,
) -> Change:
    """Validate and store one fact; raises ConfigError naming the problem (nothing stored).

    When a fact voters were waiting for is published and `draft_text` is given, a broadcast
    is drafted as a planned reminder: never sent until a person switches it on (/calendrier).
    """
    value = parse_fact(key, text)
    election = with_facts(current, {key: value})
    before = fact_value(current, key)
    after = fact_value(election, key)
    stored = None if value is None else format_fact(value)
    await store.election_set(current.id, key, stored, by, now)
    drafted = None
    if key in AWAITED and before is None and after is not None and draft_text is not None:
        drafted = await draft_broadcast(store, key, draft_text, now)
    return Change(election, key, before, after, drafted)


async def draft_broadcast(store: Store, key: str, text: str, now: datetime) -> str:
    """Plan (not enable) a broadcast to voters who have not voted; returns its plan key."""
    plan_key = f"{DRAFT_PREFIX}{key}"
    audience = Audience("progress", "voted")
    if not await store.plan_reminder(plan_key, text, audience, now + DRAFT_DELAY, now):
        await store.edit_reminder(plan_key, text=text, send_at=now + DRAFT_DELAY)
    return plan_key


def check(election: Election) -> list[tuple[str, str]]:
    """What an operator must still do: (fact, "missing" | "unverified"), facts first."""
    rows = [(key, "missing") for key in election.missing()]
    rows += [(key, "unverified") for key in election.unverified]
    return rows
