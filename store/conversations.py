"""Conversation state, processed updates and transition events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from store.db import Database, Row, Work, write, write_many
from store.models import Conversation, ProcessedUpdate, StepCommit, TransitionEvent, TurnState
from store.support import TranscriptLine, transcript_insert
from store.times import from_db, to_db
from store.users import PROFILE_FIELDS, user_from_row

# One round trip for what the engine needs: the user, their conversation, their checklist
# and, when the update was seen before, its record.
LOAD_TURN = """
SELECT u.user_id AS u_user_id, u.first_name, u.language, u.category, u.departement,
       u.reminders, u.active, u.first_seen, u.last_seen,
       c.flow, c.state, c.data, c.updated_at,
       (SELECT string_agg(item, ',') FROM progress WHERE user_id = k.id) AS progress,
       p.update_id AS p_update_id, p.user_id AS p_user_id, p.replies AS p_replies,
       p.replied_at AS p_replied_at
FROM (SELECT CAST(? AS BIGINT) AS id, CAST(? AS BIGINT) AS update_id) AS k
LEFT JOIN users AS u ON u.user_id = k.id
LEFT JOIN conversations AS c ON c.user_id = k.id
LEFT JOIN processed_updates AS p ON p.update_id = k.update_id
"""

# An update of the inbox (store/inbox.py) is finished in the transaction that ends its step.
_INBOX_DONE = (
    "UPDATE inbox SET status = 'done', payload = NULL, claimed_by = NULL, lease_until = NULL, "
    "finished_at = ? WHERE update_id = ? AND status = 'queued'"
)


def turn_from_row(row: Row, user_id: int) -> TurnState:
    """A voter's turn state from a row of `LOAD_TURN`."""
    user = user_from_row(row, user_id) if row["u_user_id"] is not None else None
    conversation = None
    if row["flow"] is not None:
        conversation = Conversation(
            user_id=user_id,
            flow=row["flow"],
            state=row["state"],
            data=json.loads(row["data"]),
            updated_at=from_db(row["updated_at"]),
        )
    processed = None
    if row["p_update_id"] is not None:
        processed = ProcessedUpdate(
            update_id=row["p_update_id"],
            user_id=row["p_user_id"],
            replies=json.loads(row["p_replies"]),
            replied=row["p_replied_at"] is not None,
        )
    progress = frozenset(row["progress"].split(",")) if row["progress"] else frozenset()
    return TurnState(user, conversation, progress, processed)


class ConversationQueries:
    """Reads and writes of conversations, processed_updates and transition_events."""

    db: Database

    async def load_conversation(self, user_id: int) -> Conversation | None:
        """Where a voter stands, or None if they never started."""
        row = await self.db.fetchone("SELECT * FROM conversations WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return Conversation(
            user_id=row["user_id"],
            flow=row["flow"],
            state=row["state"],
            data=json.loads(row["data"]),
            updated_at=from_db(row["updated_at"]),
        )

    async def load_turn(self, user_id: int, update_id: int | None) -> TurnState:
        """The user, conversation, checklist and update record, in one query."""
        row = await self.db.fetchone(LOAD_TURN, (user_id, update_id))
        assert row is not None
        return turn_from_row(row, user_id)

    async def processed_update(self, update_id: int) -> ProcessedUpdate | None:
        """The record of an update already handled, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        if row is None:
            return None
        return ProcessedUpdate(
            update_id=row["update_id"],
            user_id=row["user_id"],
            replies=json.loads(row["replies"]),
            replied=row["replied_at"] is not None,
        )

    async def commit_step(self, step: StepCommit, now: datetime) -> bool:
        """Write a handled update atomically; False if that update id was already recorded."""
        conv = step.conversation
        at = to_db(now)

        def work() -> Work[bool]:
            yield write(
                "INSERT INTO users (user_id, first_name, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET last_seen = "
                "excluded.last_seen, active = 1, first_name = CASE WHEN excluded.first_name = '' "
                "THEN users.first_name ELSE excluded.first_name END",
                (conv.user_id, step.first_name, at, at),
            )
            if step.update_id is not None:
                changed = yield write(
                    "INSERT INTO processed_updates (update_id, user_id, replies, processed_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(update_id) DO NOTHING",
                    (step.update_id, conv.user_id, json.dumps(step.replies), at),
                )
                if changed == 0:
                    return False
                if not step.replies:  # nothing to send: the update is finished with its step
                    yield write(_INBOX_DONE, (at, step.update_id))
            yield write(
                "INSERT INTO conversations (user_id, flow, state, data, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                "flow = excluded.flow, state = excluded.state, data = excluded.data, "
                "updated_at = excluded.updated_at",
                (conv.user_id, conv.flow, conv.state, json.dumps(conv.data), at),
            )
            for name, value in step.profile.items():
                if name not in PROFILE_FIELDS:
                    raise ValueError(f"not a profile field: {name}")
                # The column name comes from the fixed whitelist, the value is a parameter.
                yield write(
                    f"UPDATE users SET {name} = ? WHERE user_id = ?", (value, conv.user_id)
                )
            if step.progress_done:
                yield write_many(
                    "INSERT INTO progress (user_id, item, done_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(user_id, item) DO NOTHING",
                    [(conv.user_id, item, at) for item in sorted(step.progress_done)],
                )
            if step.progress_undone:
                yield write_many(
                    "DELETE FROM progress WHERE user_id = ? AND item = ?",
                    [(conv.user_id, item) for item in sorted(step.progress_undone)],
                )
            if step.events:
                yield write_many(
                    "INSERT INTO transition_events (user_id, at, flow, source, dest, trigger) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (e.user_id, to_db(e.at), e.flow, e.source, e.dest, e.trigger)
                        for e in step.events
                    ],
                )
            return True

        return await self.db.atomic(work)

    async def mark_replied(
        self, update_id: int, now: datetime, transcript: Sequence[TranscriptLine] = ()
    ) -> None:
        """Record that the replies of an update reached Telegram: the update is finished, and
        its transcript lines (secrets already removed) are stored in the same transaction."""

        at = to_db(now)

        def work() -> Work[None]:
            yield write(
                "UPDATE processed_updates SET replied_at = ?, replies = '[]' WHERE update_id = ?",
                (at, update_id),
            )
            yield write(_INBOX_DONE, (at, update_id))
            if transcript:
                yield transcript_insert(transcript)

        await self.db.atomic(work)

    async def transition_events(self, user_id: int) -> list[TransitionEvent]:
        """A voter's steps, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM transition_events WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [
            TransitionEvent(
                user_id=r["user_id"],
                at=from_db(r["at"]),
                flow=r["flow"],
                source=r["source"],
                dest=r["dest"],
                trigger=r["trigger"],
            )
            for r in rows
        ]

    async def purge_processed_updates(self, before: datetime) -> int:
        """Forget update ids handled and answered before a date, and finished inbox entries;
        returns how many updates were forgotten."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM processed_updates WHERE processed_at < ? AND replied_at IS NOT NULL",
                (to_db(before),),
            )
            await conn.execute(
                "DELETE FROM inbox WHERE status <> 'queued' AND finished_at < ?", (to_db(before),)
            )
            return cursor.rowcount
