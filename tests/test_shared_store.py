"""Two processes on one PostgreSQL database: each sees the other's writes at once (nothing a
replica decides on is cached in memory), and their transactions do not interleave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from store import Conversation, DirectoryEntry, SqlStore, StepCommit, open_store

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


async def test_replicas_starting_together_seed_the_directory_once(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    a, b = replicas
    entries = [DirectoryEntry("aesh", "93", "a@x"), DirectoryEntry("atss", None, "b@x")]
    for _ in range(5):
        await a.db.execute("DELETE FROM directory")
        seeded = await asyncio.gather(a.directory_seed(entries), b.directory_seed(entries))
        assert sorted(seeded) == [False, True]  # one seeds, the other finds it done
        assert len(await b.directory_list()) == 2


async def test_one_update_delivered_to_two_replicas_is_committed_once(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    a, b = replicas

    def step(state: str) -> StepCommit:
        return StepCommit(Conversation(5, "webmel", state, {}), update_id=77, first_name="A")

    done = await asyncio.gather(a.commit_step(step("one"), NOW), b.commit_step(step("two"), NOW))
    assert sorted(done) == [False, True]
    conv = await a.load_conversation(5)
    assert conv is not None and conv.state == ("one" if done[0] else "two")


async def test_the_support_relay_limit_counts_what_every_replica_relayed(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    from datetime import timedelta

    from bot.support import RELAY_BURST, RELAY_WINDOW, relay_allowed
    from store.support import TranscriptLine

    a, b = replicas
    await a.touch_user(6, "Basile", NOW)
    before = NOW - timedelta(seconds=5)  # chatting with the bot before the handoff: not counted
    await a.record_messages([TranscriptLine(6, before, "in", "bonjour")] * RELAY_BURST)
    handoff = await a.open_handoff(6, NOW)
    for i in range(RELAY_BURST):
        at = NOW + timedelta(seconds=i)
        replica = a if i % 2 else b  # the voter's messages reach both replicas in turn
        assert await relay_allowed(replica, handoff, at)
        await replica.record_messages([TranscriptLine(6, at, "in", f"message {i}")])
    later = NOW + timedelta(seconds=RELAY_BURST)
    assert not await relay_allowed(a, handoff, later)  # over the limit on either replica
    assert not await relay_allowed(b, handoff, later)
    assert await relay_allowed(b, handoff, NOW + RELAY_WINDOW)  # the oldest left the window
