"""Store contract for the staff tools of issue 14 (segments, reminders, helpdesk, figures):
each test runs once per backend (`store_target` in conftest: SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from store import Audience, Conversation, SqlStore, StepCommit, TransitionEvent, open_store

NOW = datetime(2022, 11, 2, 9, 0).astimezone()
BIG = 7_123_456_789  # Telegram ids exceed 32 bits


@pytest.fixture
async def store(store_target: str) -> AsyncIterator[SqlStore]:
    s = await open_store(store_target)
    yield s
    await s.close()


async def _voter(
    store: SqlStore, user_id: int, category: str, dep: str, done: frozenset[str] = frozenset()
) -> None:
    await store.touch_user(user_id, f"V{user_id}", NOW)
    await store.update_profile(user_id, category=category, departement=dep)
    await store.set_reminders(user_id, True)
    if done:
        step = StepCommit(Conversation(user_id, "menu", "main"), progress_done=done)
        await store.commit_step(step, NOW)


async def test_combined_audiences_and_later_steps_implying_earlier_ones(store: SqlStore) -> None:
    await _voter(store, 1, "aesh", "93")
    await _voter(store, 2, "aesh", "93", frozenset({"voted"}))
    await _voter(store, BIG, "aesh", "94")
    await _voter(store, 4, "aed", "93", frozenset({"account"}))
    count = store.count_audience
    assert await count(Audience.parse("category=aesh,departement=93,not_done=voted")) == 1
    assert await count(Audience.parse("not_done=account")) == 2  # "voted" implies account
    assert await count(Audience.parse("not_done=vote_code")) == 3
    assert await count(Audience.parse("progress=voted")) == 3  # rows stored before 0008


async def test_a_reminder_cancelled_before_it_started_can_be_enabled_again(
    store: SqlStore,
) -> None:
    at = NOW + timedelta(days=3)
    await store.plan_reminder("eve", "Demain", Audience(), at, NOW)
    assert await store.enable_reminder("eve", True)
    [planned] = await store.planned_reminders()
    assert await store.cancel_broadcast(planned.id, NOW)
    assert await store.enable_reminder("eve", True)
    again = await store.get_broadcast(planned.id)
    assert again is not None and (again.state, again.finished_at) == ("scheduled", None)
    await store.start_broadcast(planned.id, at)
    assert await store.cancel_broadcast(planned.id, at)
    assert not await store.enable_reminder("eve", True)  # it had started: never resent


async def test_broadcast_pages_and_follow_up_figures(store: SqlStore) -> None:
    for uid in (1, 2, 3):
        await _voter(store, uid, "aesh", "93")
    bid = await store.create_broadcast("x", Audience(), NOW, NOW, created_by=BIG)
    await store.start_broadcast(bid, NOW)
    for uid in (1, 2, 3):
        await store.mark_recipient(bid, uid, "sent")
    later = NOW + timedelta(hours=2)
    off = TransitionEvent(2, later, "reminders", "settings", "off", "no")
    await store.commit_step(StepCommit(Conversation(2, "reminders", "off"), (off,)), later)
    voted = StepCommit(Conversation(1, "vote", "done"), progress_done=frozenset({"voted"}))
    await store.commit_step(voted, later)
    await store.commit_step(
        StepCommit(Conversation(3, "vote", "done"), progress_done=frozenset({"voted"})),
        NOW + timedelta(days=2),  # too late to count
    )
    assert await store.broadcast_followup(bid, timedelta(hours=24)) == (1, 1)
    for i in range(6):
        await store.create_broadcast(f"n{i}", Audience(), NOW, NOW)
    assert await store.count_broadcasts() == 7
    assert [b.text for b in await store.list_broadcasts(limit=5, offset=5)] == ["n0", "x"]


async def test_one_agent_claims_a_handoff_even_when_two_try_at_once(store: SqlStore) -> None:
    await store.touch_user(BIG, "Camille", NOW)
    handoff = await store.open_handoff(BIG, NOW)
    results = await asyncio.gather(
        store.claim_handoff(handoff.id, 77, "Julien", NOW),
        store.claim_handoff(handoff.id, 78, "Sarah", NOW),
    )
    winners = {r.agent_id for r in results if r is not None}
    assert len(winners) == 1
    assert await store.release_handoff(handoff.id)
    assert not await store.release_handoff(handoff.id)
    after = await store.claim_handoff(handoff.id, 78, "Sarah", NOW)
    assert after is not None and (after.agent_id, after.agent_name) == (78, "Sarah")


async def test_queue_waits_alerts_ratings_and_agent_times(store: SqlStore) -> None:
    for uid, name in ((1, "Alice"), (BIG, "Bob")):
        await store.touch_user(uid, name, NOW)
    first = await store.open_handoff(1, NOW)
    second = await store.open_handoff(BIG, NOW)
    await store.claim_handoff(first.id, 77, "Julien", NOW)
    await store.voter_waits(first.id, NOW + timedelta(minutes=1))
    await store.voter_waits(second.id, NOW + timedelta(minutes=2))
    await store.voter_waits(second.id, NOW + timedelta(minutes=9))  # still the first wait
    await store.staff_answered(first.id, NOW + timedelta(minutes=3))
    queue = await store.support_queue()
    assert [e.user_id for e in queue] == [BIG, 1]  # waiting first
    assert queue[0].waiting_since == NOW + timedelta(minutes=2) and queue[1].waiting_since is None
    overdue = await store.overdue_handoffs(NOW + timedelta(minutes=5))
    assert [h.user_id for h in overdue] == [BIG]
    await store.mark_alerted(second.id, NOW)
    assert await store.overdue_handoffs(NOW + timedelta(minutes=5)) == []
    closed_at = NOW + timedelta(minutes=20)
    await store.close_handoff(first.id, closed_at, 77)
    assert not await store.rate_handoff(first.id, BIG, True, closed_at)  # not Bob's
    assert await store.rate_handoff(first.id, 1, True, closed_at)
    assert not await store.rate_handoff(first.id, 1, False, closed_at)  # once
    assert await store.awaiting_comment(1, NOW)
    assert await store.comment_handoff(1, "merci", NOW)
    assert not await store.awaiting_comment(1, NOW)
    [julien] = await store.agent_times()
    assert (julien.agent_id, julien.agent_name, julien.up, julien.down) == (77, "Julien", 1, 0)
    assert julien.first_response == (180.0,) and julien.resolution == (1200.0,)


async def test_names_steps_and_progress_for_support(store: SqlStore) -> None:
    await store.touch_user(1, "Anne-Lise", NOW)
    await store.touch_user(2, "Annie", NOW)
    await store.touch_user(BIG, "Bob", NOW)
    assert {u for u, _ in await store.find_voters("ANN")} == {1, 2}
    assert await store.find_voters("%") == []
    events = (
        TransitionEvent(BIG, NOW, "portal", "identifier", "captcha_help", "t"),
        TransitionEvent(BIG, NOW + timedelta(seconds=1), "human", "menu.main", "requested", "h"),
    )
    await store.commit_step(StepCommit(Conversation(BIG, "human", "requested"), events), NOW)
    assert await store.step_before_handoff(BIG) == ("portal", "captcha_help")
    assert await store.step_before_handoff(1) is None
    done = StepCommit(Conversation(1, "vote", "done"), progress_done=frozenset({"voted"}))
    await store.commit_step(done, NOW)
    reached = await store.progress_reached()
    assert reached == {"identifier": 1, "account": 1, "vote_code": 1, "voted": 1}
