"""`votebot db copy FILE URL` moves a SQLite store to an empty PostgreSQL database."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from store import Audience, Conversation, DirectoryEntry, StepCommit, TransitionEvent, open_store
from store.support import TranscriptLine
from tests.conftest import ACTIVATION_NOW, votebot_cli

NOW = ACTIVATION_NOW
BIG = 6_000_000_001
PROFILE: dict[str, Any] = {"reminders": True, "category": "aesh"}


async def _fill(path: Path, voters: int) -> int:
    store = await open_store(path)
    for uid in [BIG, *range(1, voters)]:
        await store.commit_step(
            StepCommit(
                Conversation(uid, "webmel", "open_webmel", {"history": ["menu.main"]}),
                events=(TransitionEvent(uid, NOW, "webmel", "start", "open_webmel", "go"),),
                update_id=uid,
                first_name="Élise",
                profile=PROFILE,
                progress_done=frozenset({"identifier"}),
            ),
            NOW,
        )
    bid = await store.create_broadcast("Bonjour {prenom}", Audience(), NOW, NOW)
    await store.start_broadcast(bid, NOW)
    await store.mark_recipient(bid, BIG, "sent")
    await store.grant_role(BIG, "support", None, NOW)
    await store.directory_replace([DirectoryEntry("aesh", "93", "dsden93@example.org")])
    gen = await store.roll_begin("roll.csv", NOW)
    await store.roll_add(gen, [(gen, "a b", "ab", "B", "A", "CAP", None, None, None)])
    await store.roll_activate(gen, 1, 0, NOW)
    await store.roll_end()
    handoff = await store.open_handoff(BIG, NOW)
    await store.close_handoff(handoff.id, NOW + timedelta(minutes=3), None)
    await store.record_messages([TranscriptLine(BIG, NOW, "in", "bonjour")])
    await store.take_lease("broadcast", "old-process", NOW, timedelta(seconds=10))
    await store.close()
    return bid


async def test_a_sqlite_store_is_copied_row_for_row_and_keeps_working(
    tmp_path: Path, pg_url: str
) -> None:
    source = tmp_path / "votebot.sqlite3"
    bid = await _fill(source, voters=300)
    env = {**os.environ}
    done = votebot_cli(tmp_path, env, "db", "copy", str(source), pg_url)
    assert "rows" in done.stderr  # the progress bar
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:-1]}
    assert lines["users"] == ["300", "300", "ok"]
    assert lines["broadcast_recipients"] == ["300", "300", "ok"]
    assert "leases" not in lines and "schema_migrations" not in lines
    assert all(v[-1] == "ok" for v in lines.values())

    store = await open_store(pg_url)
    try:
        turn = await store.load_turn(BIG, BIG)
        assert turn.user is not None and turn.user.first_name == "Élise"
        assert turn.user.reminders is True and turn.progress == {"identifier"}
        assert turn.conversation is not None and turn.conversation.data == {
            "history": ["menu.main"]
        }
        counts = await store.broadcast_counts(bid)
        assert (counts.sent, counts.pending) == (1, 299)
        assert [e.surname for e in await store.roll_match("a b", "")] == ["B"]
        assert (await store.handoff_counts()).durations == (180.0,)
        assert await store.roles_of(BIG) == {"support"}
        # New rows get fresh ids after the copied ones.
        assert await store.create_broadcast("x", Audience(), NOW, NOW) == bid + 1
        handoff = await store.open_handoff(BIG, NOW)
        assert handoff.id == 2
    finally:
        await store.close()

    again = votebot_cli(tmp_path, env, "db", "copy", str(source), pg_url, check=False)
    assert again.returncode == 1 and "not empty" in again.stderr


async def test_a_copy_onto_a_wrong_target_says_why(tmp_path: Path) -> None:
    env = {**os.environ}
    url = "postgresql://x/y"
    missing = votebot_cli(tmp_path, env, "db", "copy", "nope.sqlite3", url, check=False)
    assert missing.returncode == 2 and "no such SQLite file" in missing.stderr
    (tmp_path / "v.sqlite3").touch()
    other = votebot_cli(tmp_path, env, "db", "copy", "v.sqlite3", "other.sqlite3", check=False)
    assert other.returncode == 2 and "postgresql://" in other.stderr
