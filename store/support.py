"""Support: handoffs to a person, transcripts, bans, and the numbers behind /stats and /bloques."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from store.db import Database, Row, Statement, Work, write_many
from store.times import from_db, to_db


@dataclass(frozen=True)
class Handoff:
    """A voter handed to support staff; `thread_id` is their forum topic once it exists."""

    id: int
    user_id: int
    thread_id: int | None
    opened_at: datetime
    opened_by: int | None
    closed_at: datetime | None
    agent_id: int | None = None  # the staff member who claimed it
    agent_name: str | None = None
    waiting_since: datetime | None = None  # oldest voter message not answered yet


@dataclass(frozen=True)
class TranscriptLine:
    """One message in or out, secrets already removed."""

    user_id: int
    at: datetime
    direction: str  # in, out, staff
    text: str
    misunderstood: bool = False


def transcript_insert(lines: Iterable[TranscriptLine]) -> Statement:
    """The statement storing transcript lines (in a unit of their own or of a turn)."""
    return write_many(
        "INSERT INTO transcripts (user_id, at, direction, text, misunderstood) "
        "VALUES (?, ?, ?, ?, ?)",
        [(x.user_id, to_db(x.at), x.direction, x.text, int(x.misunderstood)) for x in lines],
    )


@dataclass(frozen=True)
class StuckVoter:
    """A voter who made no progress for a while or whom the bot keeps misunderstanding."""

    user_id: int
    first_name: str
    flow: str
    state: str
    last_step_at: datetime | None
    misunderstood: int


@dataclass(frozen=True)
class HandoffCounts:
    """Handoffs open and closed, with the durations (seconds) of the closed ones."""

    open: int
    closed: int
    durations: tuple[float, ...]


def _handoff(row: Row) -> Handoff:
    return Handoff(
        id=row["id"],
        user_id=row["user_id"],
        thread_id=row["thread_id"],
        opened_at=from_db(row["opened_at"]),
        opened_by=row["opened_by"],
        closed_at=from_db(row["closed_at"]) if row["closed_at"] else None,
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        waiting_since=from_db(row["waiting_since"]) if row["waiting_since"] else None,
    )


class SupportQueries:
    """Reads and writes of handoffs and transcripts."""

    db: Database
    # Voters with an open handoff, kept in memory: every update asks, and only the bot process
    # opens or closes handoffs (on a database shared by processes, `db.shared`, we query).
    _open_voters: set[int] | None = None

    async def _voters_with_handoff(self) -> set[int]:
        if self._open_voters is None:
            rows = await self.db.fetchall("SELECT user_id FROM handoffs WHERE closed_at IS NULL")
            self._open_voters = {r["user_id"] for r in rows}
        return self._open_voters

    # -- handoffs --------------------------------------------------------------------------

    async def open_handoff(self, user_id: int, now: datetime, by: int | None = None) -> Handoff:
        """The voter's open handoff, created if there is none (at most one open per voter)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO handoffs (user_id, opened_at, opened_by) VALUES (?, ?, ?) "
                "ON CONFLICT(user_id) WHERE closed_at IS NULL DO NOTHING",
                (user_id, to_db(now), by),
            )
        (await self._voters_with_handoff()).add(user_id)
        handoff = await self.open_handoff_of(user_id)
        assert handoff is not None
        return handoff

    async def open_handoff_of(self, user_id: int) -> Handoff | None:
        """The voter's open handoff, or None."""
        if not self.db.shared and user_id not in await self._voters_with_handoff():
            return None
        row = await self.db.fetchone(
            "SELECT * FROM handoffs WHERE user_id = ? AND closed_at IS NULL", (user_id,)
        )
        return _handoff(row) if row else None

    async def handoff_by_thread(self, thread_id: int) -> Handoff | None:
        """The open handoff whose topic is `thread_id`, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM handoffs WHERE thread_id = ? AND closed_at IS NULL", (thread_id,)
        )
        return _handoff(row) if row else None

    async def set_handoff_thread(self, handoff_id: int, thread_id: int) -> None:
        """Record the forum topic of a handoff (a new one after a deleted topic)."""
        await self.db.execute(
            "UPDATE handoffs SET thread_id = ? WHERE id = ?", (thread_id, handoff_id)
        )

    async def close_handoff(self, handoff_id: int, now: datetime, by: int | None) -> bool:
        """Close a handoff; False if it was already closed."""
        async with self.db.transaction() as conn:
            closed = await conn.fetchall(
                "UPDATE handoffs SET closed_at = ?, closed_by = ? "
                "WHERE id = ? AND closed_at IS NULL RETURNING user_id",
                (to_db(now), by, handoff_id),
            )
        for row in closed:
            (await self._voters_with_handoff()).discard(row["user_id"])
        return bool(closed)

    async def handoff_counts(self) -> HandoffCounts:
        """How many handoffs are open and closed, and how long the closed ones took."""
        rows = await self.db.fetchall("SELECT opened_at, closed_at FROM handoffs")
        durations = tuple(
            (from_db(r["closed_at"]) - from_db(r["opened_at"])).total_seconds()
            for r in rows
            if r["closed_at"]
        )
        return HandoffCounts(len(list(rows)) - len(durations), len(durations), durations)

    # -- transcripts -----------------------------------------------------------------------

    async def record_messages(self, lines: Iterable[TranscriptLine]) -> None:
        """Store transcript lines (their text must already be free of secrets)."""
        insert = transcript_insert(lines)

        def work() -> Work[None]:
            yield insert

        await self.db.atomic(work)  # one hop to the database thread

    async def count_messages_since(self, user_id: int, direction: str, since: datetime) -> int:
        """How many transcript lines of the voter in `direction` are timed after `since`."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM transcripts WHERE user_id = ? AND direction = ? AND at > ?",
            (user_id, direction, to_db(since)),
        )
        return int(row["n"]) if row is not None else 0

    async def transcript(self, user_id: int, limit: int = 20) -> list[TranscriptLine]:
        """The voter's last `limit` transcript lines, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM transcripts WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [
            TranscriptLine(
                r["user_id"], from_db(r["at"]), r["direction"], r["text"], bool(r["misunderstood"])
            )
            for r in reversed(list(rows))
        ]

    async def has_written(self, user_id: int) -> bool:
        """Whether the voter ever typed a message (not only /start or buttons)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM transcripts WHERE user_id = ? AND direction = 'in' LIMIT 1",
            (user_id,),
        )
        return row is not None

    async def purge_transcripts(self, before: datetime) -> int:
        """Delete transcript lines and closed handoffs older than `before`; how many."""
        async with self.db.transaction() as conn:
            lines = await conn.execute("DELETE FROM transcripts WHERE at < ?", (to_db(before),))
            handoffs = await conn.execute(
                "DELETE FROM handoffs WHERE closed_at IS NOT NULL AND closed_at < ?",
                (to_db(before),),
            )
            return lines.rowcount + handoffs.rowcount

    # -- erasure (bans live in store/bans.py and survive it) ------------------------------------

    async def erase_user(self, user_id: int) -> bool:
        """Erase everything about a person (right to erasure); False if they were unknown.

        The users row cascades to every table keyed by user_id; roles have no foreign key.
        """
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM roles WHERE user_id = ?", (user_id,))
            cursor = await conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            erased = cursor.rowcount == 1
        (await self._voters_with_handoff()).discard(user_id)
        return erased

    # -- monitoring ------------------------------------------------------------------------

    async def step_counts(self) -> list[tuple[str, str, int]]:
        """How many voters stand at each flow step now: (flow, state, voters)."""
        rows = await self.db.fetchall(
            "SELECT flow, state, COUNT(*) AS n FROM conversations GROUP BY flow, state "
            "ORDER BY flow, state"
        )
        return [(r["flow"], r["state"], r["n"]) for r in rows]

    async def step_reach(self) -> list[tuple[str, str, int]]:
        """How many distinct voters ever reached each flow step: (flow, step, voters)."""
        rows = await self.db.fetchall(
            "SELECT flow, dest, COUNT(DISTINCT user_id) AS n FROM transition_events "
            "GROUP BY flow, dest ORDER BY flow, dest"
        )
        return [(r["flow"], r["dest"], r["n"]) for r in rows]

    async def flow_starts(self) -> dict[str, int]:
        """How many distinct voters ever took a step in each flow."""
        rows = await self.db.fetchall(
            "SELECT flow, COUNT(DISTINCT user_id) AS n FROM transition_events GROUP BY flow"
        )
        return {r["flow"]: r["n"] for r in rows}

    async def stuck_voters(
        self, idle_before: datetime, misunderstood_min: int, limit: int = 20
    ) -> list[StuckVoter]:
        """Voters without an open handoff, not voted, idle since `idle_before` or misunderstood
        at least `misunderstood_min` times (in the kept transcripts); longest idle first."""
        rows = await self.db.fetchall(
            "SELECT * FROM (SELECT u.user_id, u.first_name, u.first_seen, c.flow, c.state, "
            "  (SELECT MAX(at) FROM transition_events e WHERE e.user_id = u.user_id) AS last_at, "
            "  (SELECT COUNT(*) FROM transcripts t WHERE t.user_id = u.user_id "
            "     AND t.misunderstood = 1) AS missed "
            "FROM users u JOIN conversations c ON c.user_id = u.user_id "
            "WHERE u.active = 1 "
            "  AND NOT EXISTS (SELECT 1 FROM progress p WHERE p.user_id = u.user_id "
            "                  AND p.item = 'voted') "
            "  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.user_id = u.user_id "
            "                  AND h.closed_at IS NULL) "
            "  AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.user_id = u.user_id)) AS s "
            "WHERE COALESCE(last_at, first_seen) < ? OR missed >= ? "
            "ORDER BY COALESCE(last_at, first_seen), user_id LIMIT ?",
            (to_db(idle_before), misunderstood_min, limit),
        )
        return [
            StuckVoter(
                r["user_id"],
                r["first_name"],
                r["flow"],
                r["state"],
                from_db(r["last_at"]) if r["last_at"] else None,
                r["missed"],
            )
            for r in rows
        ]
