"""Two processes on one PostgreSQL database see each other's writes at once: nothing a
replica needs to decide is cached in memory (open handoffs, composer drafts, roles)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from store import SqlStore, open_store

NOW = datetime(2026, 12, 3, 9, 0).astimezone()


@pytest.fixture
async def replicas(pg_url: str) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    a, b = await open_store(pg_url), await open_store(pg_url)
    yield a, b
    await a.close()
    await b.close()


async def test_a_handoff_opened_by_one_replica_is_seen_by_the_other(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    a, b = replicas
    await a.touch_user(5, "Anne", NOW)
    assert await b.open_handoff_of(5) is None  # b has looked before
    handoff = await a.open_handoff(5, NOW)
    seen = await b.open_handoff_of(5)
    assert seen is not None and seen.id == handoff.id
    assert await b.close_handoff(handoff.id, NOW, 42)
    assert await a.open_handoff_of(5) is None


async def test_a_draft_saved_by_one_replica_is_seen_by_the_other(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    a, b = replicas
    assert await b.get_draft(7) is None
    await a.save_draft(7, "ask_text", {"audience": "all"}, NOW)
    assert await b.get_draft(7) == ("ask_text", {"audience": "all"})
    await b.delete_draft(7)
    assert await a.get_draft(7) is None


async def test_a_role_granted_through_one_replica_counts_on_the_other(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    a, b = replicas
    assert await b.roles_of(9) == frozenset()
    await a.grant_role(9, "broadcaster", 42, NOW)
    assert await b.roles_of(9) == {"broadcaster"}
