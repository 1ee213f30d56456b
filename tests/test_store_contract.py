"""Store contract: every backend (a SQLite file, a real PostgreSQL database) gives the same
answers to the same calls. Each test runs once per backend (`store_target` in conftest)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from store import (
    Audience,
    Conversation,
    DirectoryEntry,
    InboxCounts,
    Received,
    SqlStore,
    StepCommit,
    TransitionEvent,
    open_store,
)
from store.db import Work, write
from store.roll import RollRow
from store.support import TranscriptLine

NOW = datetime(2022, 11, 2, 9, 0).astimezone()
BIG = 7_123_456_789  # Telegram ids exceed 32 bits


@pytest.fixture
async def store(store_target: str) -> AsyncIterator[SqlStore]:
    s = await open_store(store_target)
    yield s
    await s.close()


def _step(
    user_id: int, state: str, update_id: int | None = None, at: datetime = NOW, **more: object
) -> StepCommit:
    return StepCommit(
        conversation=Conversation(user_id, "webmel", state, {"history": ["menu.main"]}),
        events=(TransitionEvent(user_id, at, "webmel", "has_address", state, "no"),),
        update_id=update_id,
        replies=[{"template": "webmel/open_webmel.html"}],
        first_name="Camille",
        **more,  # type: ignore[arg-type]
    )


async def _voter(store: SqlStore, user_id: int, category: str = "aesh", dep: str = "93") -> None:
    await store.touch_user(user_id, f"V{user_id}", NOW)
    await store.update_profile(user_id, category=category, departement=dep)
    await store.set_reminders(user_id, True)


# -- conversations, users -------------------------------------------------------------------


async def test_commit_step_saves_state_events_and_user_together(store: SqlStore) -> None:
    assert await store.commit_step(_step(7, "open_webmel", update_id=1), NOW)
    conv = await store.load_conversation(7)
    assert conv is not None and (conv.flow, conv.state) == ("webmel", "open_webmel")
    assert conv.data == {"history": ["menu.main"]}
    user = await store.get_user(7)
    assert user is not None and user.first_name == "Camille" and user.active
    events = await store.transition_events(7)
    assert [(e.source, e.dest, e.trigger) for e in events] == [
        ("has_address", "open_webmel", "no")
    ]


async def test_same_update_id_is_committed_once(store: SqlStore) -> None:
    assert await store.commit_step(_step(7, "open_webmel", update_id=5), NOW)
    assert not await store.commit_step(_step(7, "enter_numen", update_id=5), NOW)
    conv = await store.load_conversation(7)
    assert conv is not None and conv.state == "open_webmel"
    assert len(await store.transition_events(7)) == 1


async def test_unsent_replies_are_kept_until_marked_replied(store: SqlStore) -> None:
    await store.commit_step(_step(7, "open_webmel", update_id=9), NOW)
    seen = await store.processed_update(9)
    assert seen is not None and not seen.replied
    assert seen.replies == [{"template": "webmel/open_webmel.html"}]
    lines = [
        TranscriptLine(7, NOW, "in", "ma notice ?"),
        TranscriptLine(7, NOW, "out", "La notice arrive…"),
    ]
    await store.mark_replied(9, NOW, lines)  # the transcript goes with the "sent" record
    seen = await store.processed_update(9)
    assert seen is not None and seen.replied and seen.replies == []
    assert [(x.direction, x.text) for x in await store.transcript(7)] == [
        ("in", "ma notice ?"),
        ("out", "La notice arrive…"),
    ]


async def test_old_answered_update_ids_are_purged(store: SqlStore) -> None:
    await store.commit_step(_step(7, "a", update_id=1), NOW - timedelta(days=10))
    await store.commit_step(_step(7, "b", update_id=2), NOW)
    await store.mark_replied(1, NOW)
    await store.mark_replied(2, NOW)
    assert await store.purge_processed_updates(NOW - timedelta(days=1)) == 1
    assert await store.processed_update(1) is None
    assert await store.processed_update(2) is not None


async def test_user_profile_opt_ins_and_activity(store: SqlStore) -> None:
    user = await store.touch_user(BIG, "Anne", NOW)
    assert user.user_id == BIG and user.reminders is None and user.active
    assert user.language == "fr"
    await store.update_profile(BIG, category="aesh", departement="93")
    await store.set_reminders(BIG, True)
    await store.set_active(BIG, False)
    changed = await store.get_user(BIG)
    assert changed is not None
    assert (changed.category, changed.departement, changed.reminders, changed.active) == (
        "aesh",
        "93",
        True,
        False,
    )
    later = await store.touch_user(BIG, "Anne", NOW + timedelta(hours=1))
    assert later.active and later.first_seen == user.first_seen
    assert later.last_seen > user.last_seen
    assert await store.count_users() == 1
    with pytest.raises(ValueError):
        await store.update_profile(BIG, active="1")


async def test_load_turn_reads_everything_the_engine_needs_at_once(store: SqlStore) -> None:
    empty = await store.load_turn(BIG, 1)
    assert (empty.user, empty.conversation, empty.progress, empty.processed) == (
        None,
        None,
        frozenset(),
        None,
    )
    step = _step(
        BIG, "open_webmel", update_id=1, progress_done=frozenset({"identifier", "account"})
    )
    await store.commit_step(step, NOW)
    state = await store.load_turn(BIG, 1)
    assert state.user is not None and state.user.first_name == "Camille"
    assert state.conversation is not None and state.conversation.state == "open_webmel"
    assert state.progress == {"identifier", "account"}
    assert state.processed is not None and not state.processed.replied
    assert (await store.load_turn(BIG, None)).processed is None


async def test_progress_ticked_and_unticked(store: SqlStore) -> None:
    await store.commit_step(_step(1, "a", progress_done=frozenset({"identifier", "voted"})), NOW)
    await store.commit_step(_step(2, "a", progress_done=frozenset({"identifier"})), NOW)
    await store.commit_step(_step(1, "b", progress_undone=frozenset({"voted"})), NOW)
    assert await store.progress_of(1) == {"identifier"}
    assert await store.progress_of(2) == {"identifier"}


async def test_a_profile_field_in_a_step_is_saved_with_it(store: SqlStore) -> None:
    profile: dict[str, Any] = {"category": "atss", "reminders": True}  # flows set booleans
    await store.commit_step(_step(3, "a", profile=profile), NOW)
    user = await store.get_user(3)
    assert user is not None and (user.category, user.reminders) == ("atss", True)


async def test_a_failed_transaction_changes_nothing(store: SqlStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (user_id, first_seen, last_seen) VALUES (?, 'x', 'x')", (1,)
            )
            raise RuntimeError("boom")
    assert await store.count_users() == 0


async def test_a_new_row_id_comes_back_from_returning(store: SqlStore) -> None:
    async with store.db.transaction() as conn:
        first = await conn.fetchone(
            "INSERT INTO roll_lookups (user_id, at, found) VALUES (?, ?, ?) RETURNING id",
            (BIG, "t", 1),
        )
        second = await conn.fetchone(
            "INSERT INTO roll_lookups (user_id, at, found) VALUES (?, ?, ?) RETURNING id",
            (BIG, "t", 0),
        )
        changed = await conn.execute("UPDATE roll_lookups SET found = 1 WHERE user_id = ?", (BIG,))
    assert first is not None and second is not None and second["id"] > first["id"]
    assert changed == 2 and changed.rowcount == 2


async def test_a_single_write_returns_its_rows(store: SqlStore) -> None:
    await store.touch_user(1, "A", NOW)
    await store.touch_user(2, "B", NOW)
    rows = await store.db.execute_returning(
        "UPDATE users SET active = 0 WHERE user_id >= ? RETURNING user_id", (1,)
    )
    assert sorted(r["user_id"] for r in rows) == [1, 2]
    assert await store.db.execute("UPDATE users SET active = 1 WHERE active = 0") == 2


async def test_text_sorts_by_code_point_on_every_backend(store: SqlStore) -> None:
    names = ["b", "B", "a", "É", "e", "_", "1"]
    await store.directory_replace([DirectoryEntry(n, None, f"{n}@x") for n in names])
    assert [e.category for e in await store.directory_list()] == sorted(names)


# -- roles, directory -----------------------------------------------------------------------


async def test_roles_granted_revoked_and_listed(store: SqlStore) -> None:
    assert await store.grant_role(BIG, "support", 42, NOW)
    assert not await store.grant_role(BIG, "support", 42, NOW)
    assert await store.grant_role(5, "broadcaster", None, NOW)
    assert await store.roles_of(BIG) == {"support"}
    assert await store.list_roles() == [(5, "broadcaster"), (BIG, "support")]
    assert await store.revoke_role(BIG, "support")
    assert not await store.revoke_role(BIG, "support")
    with pytest.raises(ValueError):
        await store.grant_role(1, "king", None, NOW)


async def test_directory_seeded_once_then_replaced(store: SqlStore) -> None:
    first = [DirectoryEntry("aesh", "93", "a@x"), DirectoryEntry("atss", None, "b@x")]
    assert await store.directory_seed(first)
    assert not await store.directory_seed([DirectoryEntry("aed", None, "c@x")])
    assert await store.directory_list() == sorted(first, key=lambda e: e.category)
    assert await store.directory_replace([DirectoryEntry("aed", None, "c@x")]) == 1
    assert await store.directory_list() == [DirectoryEntry("aed", None, "c@x")]


# -- roll ---------------------------------------------------------------------------------


def _roll_row(gen: int, surname: str, first: str, ballot: str = "CAP") -> RollRow:
    key = " ".join(sorted(f"{surname} {first}".lower().split()))
    loose = "".join(sorted(key.replace(" ", "")))
    return (gen, key, loose, surname, first, ballot, "aesh", "93", None)


async def test_roll_generations_swap_and_look_ups(store: SqlStore) -> None:
    assert await store.roll_active() is None
    gen = await store.roll_begin("a.csv", NOW)
    await store.roll_add(
        gen, [_roll_row(gen, "MARTIN", "Anne"), _roll_row(gen, "MARTIN", "Anne", "CT")]
    )
    await store.roll_add(
        gen, [_roll_row(gen, "DURAND", "Paul"), _roll_row(gen, "DUPONT", "Paule")]
    )
    await store.roll_activate(gen, 4, 1, NOW)
    await store.roll_end()
    active = await store.roll_active()
    assert active is not None and (active.id, active.imported, active.active) == (gen, 4, True)
    found = await store.roll_match("anne martin", "")
    assert sorted(e.ballot for e in found) == ["CAP", "CT"]
    loose = "".join(sorted("annemartin"))
    assert len(await store.roll_match("martin anne", loose)) == 2
    assert [e.first_name for e in await store.roll_match("x", "".join(sorted("dupontpaule")))] == [
        "Paule"
    ]
    stats = await store.roll_stats(NOW - timedelta(days=1))
    assert (stats.entries, stats.people) == (4, 3)
    assert stats.by_ballot == {"CAP": 3, "CT": 1}
    with pytest.raises(RuntimeError):
        await store.roll_activate(gen, 4, 1, NOW)
    second = await store.roll_begin("b.csv", NOW)
    await store.roll_add(second, [_roll_row(second, "LEROY", "Jean")])
    await store.roll_activate(second, 1, 0, NOW)
    await store.roll_discard_inactive()  # SQLite dropped the replaced rows with their table
    assert await store.roll_match("anne martin", "") == []
    assert (await store.roll_stats(NOW)).entries == 1
    assert len(await store.roll_match("jean leroy", "")) == 1
    # An import cut short (no activation) leaves the roll in service as it was.
    third = await store.roll_begin("c.csv", NOW)
    await store.roll_add(third, [_roll_row(third, "MOREAU", "Lise")])
    await store.roll_end()
    assert await store.roll_match("lise moreau", "") == []
    assert len(await store.roll_match("jean leroy", "")) == 1
    fourth = await store.roll_begin("d.csv", NOW)
    with pytest.raises(ValueError):  # a row of another generation is refused, nothing added
        await store.roll_add(
            fourth, [_roll_row(fourth, "A", "B"), _roll_row(fourth + 1, "C", "D")]
        )
    await store.roll_add(fourth, [_roll_row(fourth, "MOREAU", "Lise")])
    await store.roll_activate(fourth, 1, 0, NOW)
    await store.roll_end()
    assert len(await store.roll_match("lise moreau", "")) == 1
    assert await store.roll_match("jean leroy", "") == []


async def test_roll_lookups_are_logged_and_counted(store: SqlStore) -> None:
    await store.roll_log_lookup(BIG, NOW - timedelta(hours=2), True)
    await store.roll_log_lookup(BIG, NOW, False)
    await store.roll_log_lookup(BIG, NOW, True)
    assert await store.roll_lookups_since(BIG, NOW - timedelta(hours=1)) == [NOW, NOW]
    stats = await store.roll_stats(NOW - timedelta(hours=1))
    assert (stats.lookups, stats.lookups_found) == (2, 1)
    assert type(stats.lookups_found) is int


# -- broadcasts ------------------------------------------------------------------------------


async def test_broadcast_reaches_its_audience_once(store: SqlStore) -> None:
    await _voter(store, BIG, "aesh", "93")
    await _voter(store, 2, "atss", "94")
    await store.touch_user(3, "NoOptIn", NOW)
    bid = await store.create_broadcast("Bonjour {prenom}", Audience.parse("all"), NOW, NOW, 42)
    assert await store.count_audience(Audience.parse("departement=93")) == 1
    assert [b.id for b in await store.due_broadcasts(NOW)] == [bid]
    assert await store.start_broadcast(bid, NOW) == 2
    assert await store.start_broadcast(bid, NOW) == 0  # already started
    active = await store.active_broadcast()
    assert active is not None and active.id == bid and active.state == "sending"
    rows = await store.next_recipients(bid, 10, 0.0)
    assert [(r.user_id, r.first_name) for r in rows] == [(2, "V2"), (BIG, f"V{BIG}")]
    await store.mark_recipient(bid, 2, "sending", attempts=1)
    assert await store.recover_broadcasts() == 1
    await store.mark_recipient(bid, 2, "pending", not_before=1e12)
    await store.mark_recipient(bid, BIG, "blocked", error="forbidden")
    assert await store.next_recipients(bid, 10, 0.0) == []
    counts = await store.broadcast_counts(bid)
    assert (counts.pending, counts.blocked, counts.total, counts.open) == (1, 1, 2, 1)
    user = await store.get_user(BIG)
    assert user is not None and not user.active
    await store.set_report_message(bid, 77)
    await store.finish_broadcast(bid, NOW)
    done = await store.get_broadcast(bid)
    assert done is not None and (done.state, done.report_message) == ("done", 77)
    assert not await store.cancel_broadcast(bid, NOW)


async def test_progress_audience_selects_who_has_not_done_the_step(store: SqlStore) -> None:
    await _voter(store, 1)
    await _voter(store, 2)
    await store.commit_step(_step(1, "a", progress_done=frozenset({"voted"})), NOW)
    assert await store.count_audience(Audience.parse("progress=voted")) == 1


async def test_calendar_reminders_planned_edited_enabled(store: SqlStore) -> None:
    at = NOW + timedelta(days=3)
    assert await store.plan_reminder("eve", "Demain", Audience.parse("all"), at, NOW)
    assert not await store.plan_reminder("eve", "Autre", Audience.parse("all"), at, NOW)
    assert await store.edit_reminder("eve", text="Demain !", send_at=at + timedelta(hours=1))
    assert await store.enable_reminder("eve", True)
    assert not await store.enable_reminder("eve", True)
    [planned] = await store.planned_reminders()
    assert (planned.plan_key, planned.text, planned.state) == ("eve", "Demain !", "scheduled")
    assert planned.send_at == at + timedelta(hours=1)
    assert await store.cancel_broadcast(planned.id, NOW)
    assert [b.state for b in await store.list_broadcasts()] == ["cancelled"]


async def test_composer_drafts(store: SqlStore) -> None:
    assert await store.get_draft(BIG) is None
    await store.save_draft(BIG, "ask_text", {"audience": "all"}, NOW)
    await store.save_draft(BIG, "ask_choice", {"audience": "all", "text": "x"}, NOW)
    assert await store.get_draft(BIG) == ("ask_choice", {"audience": "all", "text": "x"})
    await store.delete_draft(BIG)
    assert await store.get_draft(BIG) is None


# -- support -------------------------------------------------------------------------------


async def test_handoffs_transcripts_and_erasure(store: SqlStore) -> None:
    await store.touch_user(BIG, "Anne", NOW)
    handoff = await store.open_handoff(BIG, NOW)
    again = await store.open_handoff(BIG, NOW + timedelta(minutes=1))
    assert again.id == handoff.id  # one open handoff per voter
    await store.set_handoff_thread(handoff.id, 555)
    by_thread = await store.handoff_by_thread(555)
    assert by_thread is not None and by_thread.user_id == BIG
    await store.record_messages(
        [
            TranscriptLine(BIG, NOW, "in", "bonjour"),
            TranscriptLine(BIG, NOW, "out", "?", misunderstood=True),
        ]
    )
    assert await store.has_written(BIG)
    assert [x.text for x in await store.transcript(BIG)] == ["bonjour", "?"]
    assert await store.close_handoff(handoff.id, NOW + timedelta(minutes=5), 42)
    assert not await store.close_handoff(handoff.id, NOW, 42)
    assert await store.open_handoff_of(BIG) is None
    counts = await store.handoff_counts()
    assert (counts.open, counts.closed, counts.durations) == (0, 1, (300.0,))
    assert await store.purge_transcripts(NOW + timedelta(days=1)) == 3
    await store.ban_voter(BIG, 42, NOW)
    assert await store.is_banned(BIG)
    assert await store.erase_user(BIG)
    assert not await store.erase_user(BIG)
    assert await store.is_banned(BIG)  # a ban holds through erasure (bans, 0007)
    assert await store.banned_until(BIG) == (True, None)
    assert await store.unban_voter(BIG) and not await store.unban_voter(BIG)
    assert not await store.is_banned(BIG)
    later = NOW + timedelta(days=2)
    await store.ban_voter(BIG, 42, NOW, until=later)
    assert await store.is_banned(BIG, NOW) and not await store.is_banned(BIG, later)
    for voter in (BIG + 1, BIG + 2):
        await store.touch_user(voter, "Camille", NOW)
    await store.open_handoff(BIG + 1, NOW)
    await store.open_handoff(BIG + 2, NOW, by=42)
    assert await store.handoffs_asked_since(BIG + 1, NOW - timedelta(hours=1)) == 1
    assert await store.handoffs_asked_since(BIG + 2, NOW - timedelta(hours=1)) == 0


async def test_stuck_voters_and_step_counts(store: SqlStore) -> None:
    days_ago = NOW - timedelta(days=3)
    await store.commit_step(_step(1, "open_webmel", at=days_ago), days_ago)
    await store.commit_step(_step(2, "open_webmel"), NOW)
    await store.commit_step(_step(3, "open_webmel", progress_done=frozenset({"voted"})), NOW)
    await store.record_messages(
        [TranscriptLine(2, NOW, "in", "??", misunderstood=True) for _ in range(3)]
    )
    stuck = await store.stuck_voters(NOW - timedelta(days=2), 3)
    assert [(s.user_id, s.misunderstood) for s in stuck] == [(1, 0), (2, 3)]
    assert await store.step_counts() == [("webmel", "open_webmel", 3)]
    assert await store.step_reach() == [("webmel", "open_webmel", 3)]
    assert await store.flow_starts() == {"webmel": 3}


# -- leases -------------------------------------------------------------------------------


async def test_a_lease_has_one_holder_until_it_expires_or_is_released(store: SqlStore) -> None:
    ttl = timedelta(seconds=10)
    assert await store.take_lease("broadcast", "a", NOW, ttl)
    assert not await store.take_lease("broadcast", "b", NOW + timedelta(seconds=5), ttl)
    assert await store.take_lease("broadcast", "a", NOW + timedelta(seconds=5), ttl)  # renewed
    assert not await store.take_lease("broadcast", "b", NOW + timedelta(seconds=14), ttl)
    assert await store.lease_holder("broadcast", NOW + timedelta(seconds=14)) == "a"
    assert await store.take_lease("broadcast", "b", NOW + timedelta(seconds=15), ttl)  # expired
    assert await store.take_lease("purge", "a", NOW, ttl)  # another name, another lease
    assert not await store.release_lease("broadcast", "a")
    assert await store.release_lease("broadcast", "b")
    assert await store.lease_holder("broadcast", NOW) is None
    assert await store.take_lease("broadcast", "a", NOW + timedelta(seconds=16), ttl)


async def test_roll_refusals_are_kept_apart_and_the_global_count_skips_them(
    store: SqlStore,
) -> None:
    await store.roll_log_lookup(BIG, NOW, True)
    await store.roll_log_lookup(2, NOW, False)
    since = NOW - timedelta(days=1)
    assert await store.roll_log_refusal(BIG, NOW, since) == 1
    assert await store.roll_log_refusal(BIG, NOW, since) == 2
    assert await store.roll_lookups_count(since) == 2
    assert await store.roll_lookups_since(BIG, since) == [NOW]
    stats = await store.roll_stats(since)
    assert stats.lookups == 2 and stats.refused == ((BIG, 2),)


# -- the durable inbox ---------------------------------------------------------------------


def _received(update_id: int, voter: int = BIG) -> Received:
    return Received(update_id, voter, json.dumps({"update_id": update_id, "t": "é"}))


async def test_a_step_that_fails_midway_leaves_nothing_behind(store: SqlStore) -> None:
    await store.inbox_add([_received(1)], NOW, cap=5)
    bad = _step(BIG, "open_webmel", update_id=1, profile={"active": 1})
    with pytest.raises(ValueError):  # raised after the user and the update were written
        await store.commit_step(bad, NOW)
    assert await store.get_user(BIG) is None and await store.load_conversation(BIG) is None
    assert (await store.load_turn(BIG, 1)).processed is None
    assert (await store.inbox_counts()).queued == 1  # still to be handled


async def test_an_update_is_finished_by_its_step_and_replies_with_big_ids(
    store: SqlStore,
) -> None:
    intake = await store.inbox_add([_received(2**40), _received(2**40 + 1, 2**35)], NOW, cap=5)
    assert (intake.stored, intake.repeated) == (2, 0)
    claimed = await store.inbox_claim("a", 10, NOW, NOW + timedelta(seconds=10))
    assert [(c.update_id, c.voter) for c in claimed] == [(2**40, BIG), (2**40 + 1, 2**35)]
    assert json.loads(claimed[0].payload)["t"] == "é"
    assert await store.commit_step(_step(BIG, "open_webmel", update_id=2**40), NOW)
    assert (await store.inbox_counts()).queued == 2  # replies not sent yet
    await store.mark_replied(2**40, NOW)
    await store.inbox_set_aside(2**40 + 1, NOW, "malformed update")
    counts = await store.inbox_counts()
    assert (counts.queued, counts.aside, counts.dropped) == (0, 1, 0)
    assert await store.inbox_last(NOW - timedelta(days=1)) == 2**40 + 1
    await store.purge_processed_updates(NOW + timedelta(days=1))
    assert await store.inbox_counts() == InboxCounts(queued=0, aside=0, dropped=0)


async def test_processes_sharing_the_database_never_lease_the_same_update(
    store: SqlStore, store_target: str
) -> None:
    voters = range(1, 61)
    await store.inbox_add([_received(100 + v, v) for v in voters], NOW, cap=5)
    others = [await open_store(store_target) for _ in range(2)]
    try:
        until = NOW + timedelta(seconds=10)
        claims = await asyncio.gather(
            *(
                s.inbox_claim(f"worker-{n}-{k}", 7, NOW, until)
                for k in range(4)
                for n, s in enumerate([store, *others])
            )
        )
    finally:
        for other in others:
            await other.close()
    leased = [c.update_id for claim in claims for c in claim]
    assert len(leased) == len(set(leased)) == 60  # each update leased exactly once
    assert await store.inbox_claim("late", 10, NOW, until) == []


# -- election facts ------------------------------------------------------------------------


async def test_election_facts_keep_every_change_and_the_latest_wins(store: SqlStore) -> None:
    await store.election_set("creteil-2026", "portal_url", "https://a.fr/", BIG, NOW)
    later = NOW + timedelta(minutes=1)
    await store.election_set("creteil-2026", "portal_url", "https://b.fr/", None, later)
    await store.election_set("creteil-2026", "vote_closes", None, 7, later)
    await store.election_set("other", "portal_url", "https://c.fr/", 7, later)
    history = await store.election_history("creteil-2026")
    assert [(s.key, s.value, s.set_by) for s in history] == [
        ("portal_url", "https://a.fr/", BIG),
        ("portal_url", "https://b.fr/", None),
        ("vote_closes", None, 7),
    ]
    assert history[0].set_at == NOW
    assert await store.election_current("creteil-2026") == {
        "portal_url": "https://b.fr/",
        "vote_closes": None,
    }


async def test_intent_feedback_is_kept_in_order_for_export(store: SqlStore) -> None:
    await store.add_intent_feedback("lost_vote_code", "j'ai paumé le papier", NOW)
    await store.add_intent_feedback("vote_dates", "ça ferme quand", NOW + timedelta(seconds=1))
    rows = await store.intent_feedback()
    assert [(r.intent, r.text) for r in rows] == [
        ("lost_vote_code", "j'ai paumé le papier"),
        ("vote_dates", "ça ferme quand"),
    ]
    assert rows[0].created_at == NOW


async def test_concurrent_units_commit_together_and_a_failing_one_fails_alone(
    store: SqlStore,
) -> None:
    db = store.db
    await db.execute("CREATE TABLE group_probe (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")

    def insert(k: int, v: str | None) -> Work[int]:
        changed = yield write("INSERT INTO group_probe (k, v) VALUES (?, ?)", (k, "first"))
        yield write("UPDATE group_probe SET v = ? WHERE k = ?", (v, k))  # NULL: this unit fails
        return int(changed)

    results = await asyncio.gather(
        *(db.atomic(partial(insert, k, None if k == 7 else f"v{k}")) for k in range(40)),
        return_exceptions=True,
    )
    assert [k for k, r in enumerate(results) if isinstance(r, BaseException)] == [7]
    assert "null" in str(results[7]).lower()  # the unit's own error, raised to its caller
    rows = await db.fetchall("SELECT k, v FROM group_probe ORDER BY k")
    assert [(r["k"], r["v"]) for r in rows] == [(k, f"v{k}") for k in range(40) if k != 7]
    assert await db.atomic(partial(insert, 7, "again")) == 1  # the failed unit left nothing
    with pytest.raises(Exception, match=r"(?i)null"):  # alone in its transaction, failing
        await db.atomic(partial(insert, 99, None))
    assert await db.fetchall("SELECT k FROM group_probe WHERE k = 99") == []
    assert await db.atomic(partial(insert, 99, "then")) == 1  # and the database goes on


async def test_a_caller_that_gives_up_leaves_its_group_whole(store: SqlStore) -> None:
    db = store.db
    await db.execute("CREATE TABLE give_up (k INTEGER PRIMARY KEY)")

    def insert(k: int) -> Work[int]:
        changed = yield write("INSERT INTO give_up (k) VALUES (?)", (k,))
        return int(changed)

    tasks = [asyncio.create_task(db.atomic(partial(insert, k))) for k in range(10)]
    await asyncio.sleep(0)  # every unit handed in
    tasks[3].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert [r for k, r in enumerate(results) if k != 3] == [1] * 9
    rows = await db.fetchall("SELECT k FROM give_up ORDER BY k")
    assert [r["k"] for r in rows] == list(range(10))  # handed in: committed all the same
