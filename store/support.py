"""Support: handoffs to a person, transcripts, bans, and the numbers behind /stats and /bloques."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from store.db import Database
from store.progress import ITEMS
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
class QueueEntry:
    """An open handoff in the queue (/file): who, who has it, since when they wait."""

    handoff_id: int
    user_id: int
    first_name: str
    thread_id: int | None
    agent_name: str | None
    waiting_since: datetime | None
    opened_at: datetime
    active: bool


@dataclass(frozen=True)
class AgentTimes:
    """One agent's handoffs: first-response and resolution times (seconds), ratings."""

    agent_id: int
    agent_name: str
    first_response: tuple[float, ...]
    resolution: tuple[float, ...]
    up: int
    down: int


@dataclass(frozen=True)
class HandoffCounts:
    """Handoffs open and closed, with the durations (seconds) of the closed ones."""

    open: int
    closed: int
    durations: tuple[float, ...]


def _handoff(row: aiosqlite.Row) -> Handoff:
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
    """Reads and writes of handoffs, transcripts and support_bans."""

    db: Database
    # Voters with an open handoff, kept in memory: every update asks, and only the bot process
    # opens or closes handoffs (a multi-replica backend would query instead).
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
        if user_id not in await self._voters_with_handoff():
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
            cursor = await conn.execute(
                "UPDATE handoffs SET closed_at = ?, closed_by = ? "
                "WHERE id = ? AND closed_at IS NULL RETURNING user_id",
                (to_db(now), by, handoff_id),
            )
            closed = await cursor.fetchall()
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
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO transcripts (user_id, at, direction, text, misunderstood) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (x.user_id, to_db(x.at), x.direction, x.text, int(x.misunderstood))
                    for x in lines
                ],
            )

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

    # -- bans and erasure ------------------------------------------------------------------

    async def ban_voter(self, user_id: int, by: int | None, now: datetime) -> None:
        """Stop relaying a voter to support."""
        await self.db.execute(
            "INSERT INTO support_bans (user_id, banned_by, banned_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO NOTHING",
            (user_id, by, to_db(now)),
        )

    async def is_banned(self, user_id: int) -> bool:
        """Whether support no longer hears from this voter."""
        row = await self.db.fetchone("SELECT 1 FROM support_bans WHERE user_id = ?", (user_id,))
        return row is not None

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
            "SELECT u.user_id, u.first_name, c.flow, c.state, "
            "  (SELECT MAX(at) FROM transition_events e WHERE e.user_id = u.user_id) AS last_at, "
            "  (SELECT COUNT(*) FROM transcripts t WHERE t.user_id = u.user_id "
            "     AND t.misunderstood = 1) AS missed "
            "FROM users u JOIN conversations c ON c.user_id = u.user_id "
            "WHERE u.active = 1 "
            "  AND NOT EXISTS (SELECT 1 FROM progress p WHERE p.user_id = u.user_id "
            "                  AND p.item = 'voted') "
            "  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.user_id = u.user_id "
            "                  AND h.closed_at IS NULL) "
            "  AND NOT EXISTS (SELECT 1 FROM support_bans b WHERE b.user_id = u.user_id) "
            "  AND (COALESCE(last_at, u.first_seen) < ? OR missed >= ?) "
            "ORDER BY COALESCE(last_at, u.first_seen), u.user_id LIMIT ?",
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

    # -- helpdesk: claims, waiting times, satisfaction -------------------------------------

    async def claim_handoff(
        self, handoff_id: int, agent_id: int, agent_name: str, now: datetime
    ) -> Handoff | None:
        """Give an open, unclaimed handoff to an agent (one winner); the handoff after."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE handoffs SET agent_id = ?, agent_name = ?, claimed_at = ? "
                "WHERE id = ? AND closed_at IS NULL AND agent_id IS NULL",
                (agent_id, agent_name, to_db(now), handoff_id),
            )
        row = await self.db.fetchone("SELECT * FROM handoffs WHERE id = ?", (handoff_id,))
        return _handoff(row) if row else None

    async def release_handoff(self, handoff_id: int) -> bool:
        """Let another agent claim an open handoff (hand-over)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE handoffs SET agent_id = NULL, agent_name = NULL, claimed_at = NULL "
                "WHERE id = ? AND closed_at IS NULL AND agent_id IS NOT NULL",
                (handoff_id,),
            )
            return cursor.rowcount == 1

    async def voter_waits(self, handoff_id: int, now: datetime) -> None:
        """A voter message reached the topic: they wait from now unless they already did."""
        await self.db.execute(
            "UPDATE handoffs SET waiting_since = COALESCE(waiting_since, ?) WHERE id = ?",
            (to_db(now), handoff_id),
        )

    async def staff_answered(self, handoff_id: int, now: datetime) -> None:
        """A staff message reached the voter: nobody waits; the first response is kept."""
        await self.db.execute(
            "UPDATE handoffs SET waiting_since = NULL, alerted_at = NULL, "
            "first_response_at = COALESCE(first_response_at, ?) WHERE id = ?",
            (to_db(now), handoff_id),
        )

    async def support_queue(self) -> list[QueueEntry]:
        """Open handoffs: voters waiting for an answer first (longest wait first), then others."""
        rows = await self.db.fetchall(
            "SELECT h.id, h.user_id, COALESCE(u.first_name, '') AS first_name, h.thread_id, "
            "h.agent_name, h.waiting_since, h.opened_at, COALESCE(u.active, 0) AS active "
            "FROM handoffs h LEFT JOIN users u ON u.user_id = h.user_id "
            "WHERE h.closed_at IS NULL "
            "ORDER BY CASE WHEN h.waiting_since IS NULL THEN 1 ELSE 0 END, h.waiting_since, "
            "h.opened_at, h.id"
        )
        return [
            QueueEntry(
                r["id"],
                r["user_id"],
                r["first_name"],
                r["thread_id"],
                r["agent_name"],
                from_db(r["waiting_since"]) if r["waiting_since"] else None,
                from_db(r["opened_at"]),
                bool(r["active"]),
            )
            for r in rows
        ]

    async def overdue_handoffs(self, waiting_before: datetime) -> list[Handoff]:
        """Open handoffs whose voter waits since before `waiting_before`, not yet alerted."""
        rows = await self.db.fetchall(
            "SELECT * FROM handoffs WHERE closed_at IS NULL AND waiting_since IS NOT NULL "
            "AND waiting_since < ? AND alerted_at IS NULL ORDER BY waiting_since",
            (to_db(waiting_before),),
        )
        return [_handoff(r) for r in rows]

    async def mark_alerted(self, handoff_id: int, now: datetime) -> None:
        """Remember that the group was told this voter waits."""
        await self.db.execute(
            "UPDATE handoffs SET alerted_at = ? WHERE id = ?", (to_db(now), handoff_id)
        )

    async def rate_handoff(self, handoff_id: int, user_id: int, up: bool, now: datetime) -> bool:
        """The voter's 👍/👎 after a closed handoff (once); False if not theirs or rated."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE handoffs SET rating = ?, rated_at = ? WHERE id = ? AND user_id = ? "
                "AND closed_at IS NOT NULL AND rating IS NULL",
                (int(up), to_db(now), handoff_id, user_id),
            )
            return cursor.rowcount == 1

    async def comment_handoff(self, user_id: int, comment: str, since: datetime) -> bool:
        """Attach a comment to the voter's rating given since `since` (not commented yet)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE handoffs SET rating_comment = ? WHERE id = (SELECT id FROM handoffs "
                "WHERE user_id = ? AND rated_at >= ? AND rating_comment IS NULL "
                "ORDER BY rated_at DESC LIMIT 1)",
                (comment, user_id, to_db(since)),
            )
            return cursor.rowcount == 1

    async def awaiting_comment(self, user_id: int, since: datetime) -> bool:
        """Whether the voter rated a handoff since `since` and has not commented yet."""
        row = await self.db.fetchone(
            "SELECT 1 FROM handoffs WHERE user_id = ? AND rated_at >= ? "
            "AND rating_comment IS NULL LIMIT 1",
            (user_id, to_db(since)),
        )
        return row is not None

    async def agent_times(self) -> list[AgentTimes]:
        """Per agent: first-response and resolution times of their handoffs, and ratings."""
        rows = await self.db.fetchall(
            "SELECT agent_id, agent_name, opened_at, first_response_at, closed_at, rating "
            "FROM handoffs WHERE agent_id IS NOT NULL ORDER BY agent_id, id"
        )
        agents: dict[int, dict] = {}
        for r in rows:
            a = agents.setdefault(
                r["agent_id"],
                {"name": r["agent_name"] or "", "fr": [], "res": [], "up": 0, "down": 0},
            )
            opened = from_db(r["opened_at"])
            if r["first_response_at"]:
                a["fr"].append((from_db(r["first_response_at"]) - opened).total_seconds())
            if r["closed_at"]:
                a["res"].append((from_db(r["closed_at"]) - opened).total_seconds())
            if r["rating"] is not None:
                a["up" if r["rating"] else "down"] += 1
        return [
            AgentTimes(k, v["name"], tuple(v["fr"]), tuple(v["res"]), v["up"], v["down"])
            for k, v in agents.items()
        ]

    async def find_voters(self, name: str, limit: int = 10) -> list[tuple[int, str]]:
        """Voters whose first name contains `name` (case-insensitive): (user_id, first_name)."""
        pattern = "%" + name.lower().replace("%", "").replace("_", "") + "%"
        rows = await self.db.fetchall(
            "SELECT user_id, first_name FROM users WHERE LOWER(first_name) LIKE ? "
            "ORDER BY last_seen DESC LIMIT ?",
            (pattern, limit),
        )
        return [(r["user_id"], r["first_name"]) for r in rows]

    async def step_before_handoff(self, user_id: int) -> tuple[str, str] | None:
        """The last guide step the voter reached outside the menu and the handoff itself."""
        row = await self.db.fetchone(
            "SELECT flow, dest FROM transition_events WHERE user_id = ? "
            "AND flow NOT IN ('human', 'menu') ORDER BY at DESC LIMIT 1",
            (user_id,),
        )
        return (row["flow"], row["dest"]) if row else None

    async def progress_reached(self) -> dict[str, int]:
        """Voters who ticked each checklist item or a later one (a later step implies it)."""
        out = {}
        for i, item in enumerate(ITEMS):
            later = ITEMS[i:]
            row = await self.db.fetchone(
                "SELECT COUNT(DISTINCT user_id) AS n FROM progress "
                f"WHERE item IN ({', '.join('?' * len(later))})",
                later,
            )
            out[item] = int(row["n"]) if row else 0
        return out
