"""The durable inbox in the store: intake, per-voter order, leases, flood cap, poison — each test
once per backend (a SQLite file, a real PostgreSQL database: `store_target` in conftest)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from store import ClaimFor, Conversation, Received, StepCommit, Store, open_store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)


@pytest.fixture
async def store(store_target: str) -> AsyncIterator[Store]:
    s = await open_store(store_target)
    yield s
    await s.close()


def _got(update_id: int, voter: int, droppable: bool = True) -> Received:
    return Received(update_id, voter, json.dumps({"update_id": update_id}), droppable)


async def _claim(store: Store, owner: str = "a", limit: int = 10, now: datetime = NOW):
    return await store.inbox_claim(owner, limit, now, now + LEASE)


async def test_a_batch_is_stored_once_and_repeats_are_ignored(store: Store) -> None:
    first = await store.inbox_add([_got(1, 7), _got(2, 8)], NOW, cap=10)
    again = await store.inbox_add([_got(2, 8), _got(3, 8)], NOW, cap=10)
    assert (first.stored, first.repeated) == (2, 0)
    assert (again.stored, again.repeated) == (1, 1)
    assert (await store.inbox_counts()).queued == 3


async def test_one_voter_in_order_different_voters_at_once(store: Store) -> None:
    await store.inbox_add([_got(1, 7), _got(2, 7), _got(3, 8), _got(4, 9)], NOW, cap=10)
    claimed = await _claim(store)
    assert [c.update_id for c in claimed] == [1, 3, 4]  # voter 7's second waits for the first
    assert await _claim(store, "b") == []  # nothing more to lease while those are held
    await store.inbox_done(1, NOW)
    assert [c.update_id for c in await _claim(store, "b")] == [2]


async def test_storing_can_lease_what_is_ready_in_the_same_transaction(store: Store) -> None:
    await store.inbox_add([_got(1, 9)], NOW, cap=10)
    await _claim(store, "other")  # voter 9's first update is in another worker's hands
    batch = [_got(2, 7), _got(3, 7), _got(4, 8), _got(5, 9), _got(6, 10)]
    intake = await store.inbox_add(batch, NOW, cap=10, claim=ClaimFor("a", 2, NOW + LEASE))
    assert intake.queued == (7, 7, 8, 9, 10)
    assert [c.update_id for c in intake.claimed] == [2, 4]  # oldest first, one per voter, ≤ 2
    assert [c.update_id for c in await _claim(store, "b")] == [6]  # leased once only
    again = await store.inbox_add([_got(2, 7)], NOW, cap=10, claim=ClaimFor("a", 5, NOW))
    assert (again.stored, again.claimed) == (0, ())  # a repeat stores and leases nothing


async def test_an_expired_lease_is_claimed_again_a_renewed_one_is_not(store: Store) -> None:
    await store.inbox_add([_got(1, 7), _got(2, 8)], NOW, cap=10)
    await _claim(store, "dead")
    later = NOW + LEASE + timedelta(seconds=1)
    await store.inbox_renew("dead", later + LEASE)
    assert await _claim(store, "b", now=later) == []
    after = later + LEASE + timedelta(seconds=1)
    assert [c.update_id for c in await _claim(store, "b", now=after)] == [1, 2]


async def test_a_retry_waits_its_turn_and_counts_failures(store: Store) -> None:
    await store.inbox_add([_got(1, 7), _got(2, 7)], NOW, cap=10)
    await _claim(store)
    assert await store.inbox_retry(1, NOW + timedelta(seconds=2), failed=True) == 1
    assert await _claim(store) == []  # neither the retried one nor the voter's next one yet
    claimed = await _claim(store, now=NOW + timedelta(seconds=2))
    assert [(c.update_id, c.attempts) for c in claimed] == [(1, 1)]


async def test_set_aside_unblocks_the_voter_and_is_counted(store: Store) -> None:
    await store.inbox_add([_got(1, 7), _got(2, 7)], NOW, cap=10)
    await _claim(store)
    await store.inbox_set_aside(1, NOW, "KeyError: 'length'")
    assert [c.update_id for c in await _claim(store)] == [2]
    counts = await store.inbox_counts()
    assert (counts.queued, counts.aside) == (1, 1)


async def test_a_flooding_voter_is_capped_and_warned_once(store: Store) -> None:
    flood = [_got(i, 7) for i in range(1, 41)]
    intake = await store.inbox_add([*flood[:20], _got(100, 8)], NOW, cap=5)
    assert (intake.stored, intake.dropped, intake.warn) == (6, 15, (7,))
    intake = await store.inbox_add(flood[20:], NOW, cap=5)
    assert (intake.stored, intake.dropped, intake.warn) == (0, 20, ())  # told already
    left = await store.inbox_add([_got(200, 7, droppable=False)], NOW, cap=5)
    assert left.stored == 1  # a block/unblock notice is never dropped
    counts = await store.inbox_counts()
    assert (counts.queued, counts.dropped) == (7, 35)


async def test_an_update_is_finished_with_its_step_or_its_replies(store: Store) -> None:
    await store.inbox_add([_got(1, 7), _got(2, 7)], NOW, cap=10)
    await _claim(store)
    conv = Conversation(7, "menu", "main", {})
    await store.commit_step(StepCommit(conv, update_id=1, replies=[{"t": 1}]), NOW)
    assert (await store.inbox_counts()).queued == 2  # replies not sent yet: still in hand
    await store.mark_replied(1, NOW)
    assert (await store.inbox_counts()).queued == 1
    await _claim(store)
    await store.commit_step(StepCommit(conv, update_id=2, replies=[]), NOW)
    assert (await store.inbox_counts()).queued == 0
    assert await store.purge_processed_updates(NOW + timedelta(days=1)) == 1
