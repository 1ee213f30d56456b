"""Store contract tests on real SQLite files; every backend must pass them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from store import Conversation, StepCommit, Store, TransitionEvent, open_store
from store.db import migrations

NOW = datetime(2022, 11, 2, 9, 0).astimezone()
Backend = Callable[[Path], Awaitable[Store]]
BACKENDS: dict[str, Backend] = {"sqlite": lambda d: open_store(d / "votebot.sqlite3")}


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s = await BACKENDS[request.param](tmp_path)
    yield s
    await s.close()


def _step(user_id: int, state: str, update_id: int | None = None) -> StepCommit:
    return StepCommit(
        conversation=Conversation(user_id, "webmel", state, {"history": ["menu.main"]}),
        events=(TransitionEvent(user_id, NOW, "webmel", "has_address", state, "no"),),
        update_id=update_id,
        replies=[{"template": "webmel/open_webmel.html"}],
        first_name="Camille",
    )


async def test_commit_step_saves_state_events_and_user_together(store: Store) -> None:
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


async def test_same_update_id_is_committed_once(store: Store) -> None:
    assert await store.commit_step(_step(7, "open_webmel", update_id=5), NOW)
    assert not await store.commit_step(_step(7, "enter_numen", update_id=5), NOW)
    conv = await store.load_conversation(7)
    assert conv is not None and conv.state == "open_webmel"
    assert len(await store.transition_events(7)) == 1


async def test_unsent_replies_are_kept_until_marked_replied(store: Store) -> None:
    await store.commit_step(_step(7, "open_webmel", update_id=9), NOW)
    seen = await store.processed_update(9)
    assert seen is not None and not seen.replied
    assert seen.replies == [{"template": "webmel/open_webmel.html"}]
    await store.mark_replied(9, NOW)
    seen = await store.processed_update(9)
    assert seen is not None and seen.replied and seen.replies == []


async def test_old_answered_update_ids_are_purged(store: Store) -> None:
    await store.commit_step(_step(7, "a", update_id=1), NOW - timedelta(days=10))
    await store.commit_step(_step(7, "b", update_id=2), NOW)
    await store.mark_replied(1, NOW)
    await store.mark_replied(2, NOW)
    assert await store.purge_processed_updates(NOW - timedelta(days=1)) == 1
    assert await store.processed_update(1) is None
    assert await store.processed_update(2) is not None


async def test_user_profile_opt_ins_and_activity(store: Store) -> None:
    user = await store.touch_user(8, "Anne", NOW)
    assert user.reminders is None and user.active and user.language == "fr"
    await store.update_profile(8, category="aesh", departement="93")
    await store.set_reminders(8, True)
    await store.set_active(8, False)
    user = await store.get_user(8)
    assert user is not None
    assert (user.category, user.departement, user.reminders, user.active) == (
        "aesh",
        "93",
        True,
        False,
    )
    later = await store.touch_user(8, "Anne", NOW + timedelta(hours=1))
    assert (
        later.active and later.first_seen == user.first_seen and later.last_seen > user.last_seen
    )
    with pytest.raises(ValueError):
        await store.update_profile(8, active="1")


async def test_sqlite_file_uses_wal_foreign_keys_and_all_migrations(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite3"
    s = await open_store(path)
    await s.close()
    s = await open_store(path)  # reopening applies nothing twice
    fk = await s.db.fetchone("PRAGMA foreign_keys")
    await s.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [r[0] for r in raw.execute("SELECT number FROM schema_migrations ORDER BY number")]
    assert applied == [n for n, _, _ in migrations()]
    assert fk[0] == 1


async def test_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    s = await open_store(tmp_path / "v.sqlite3")
    with pytest.raises(RuntimeError):
        async with s.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (user_id, first_seen, last_seen) VALUES (1, 'x', 'x')"
            )
            raise RuntimeError("boom")
    assert await s.count_users() == 0
    await s.close()


async def test_load_turn_reads_everything_the_engine_needs_at_once(store: Store) -> None:
    empty = await store.load_turn(7, 1)
    assert (empty.user, empty.conversation, empty.progress, empty.processed) == (
        None,
        None,
        frozenset(),
        None,
    )
    step = _step(7, "open_webmel", update_id=1)
    step = StepCommit(**{**step.__dict__, "progress_done": frozenset({"identifier", "account"})})
    await store.commit_step(step, NOW)
    state = await store.load_turn(7, 1)
    assert state.user is not None and state.user.first_name == "Camille"
    assert state.conversation is not None and state.conversation.state == "open_webmel"
    assert state.progress == {"identifier", "account"}
    assert state.processed is not None and not state.processed.replied
    assert (await store.load_turn(7, None)).processed is None


async def test_intent_feedback_is_kept_in_order_for_export(store: Store) -> None:
    await store.add_intent_feedback("lost_vote_code", "j'ai paumé le papier", NOW)
    await store.add_intent_feedback("vote_dates", "ça ferme quand", NOW + timedelta(seconds=1))
    rows = await store.intent_feedback()
    assert [(r.intent, r.text) for r in rows] == [
        ("lost_vote_code", "j'ai paumé le papier"),
        ("vote_dates", "ça ferme quand"),
    ]
    assert rows[0].created_at == NOW
