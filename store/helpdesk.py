"""Helpdesk queries: claimed handoffs, the queue and waiting alerts, satisfaction, agent
times, and the figures /stats and the support card need (voters by name, the step before a
handoff, progress reached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.progress import ITEMS
from store.support import Handoff, _handoff
from store.times import from_db, to_db


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


class HelpdeskQueries:
    """Reads and writes of the helpdesk columns of handoffs (migration 0008)."""

    db: Database

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
        needle = name.lower().replace("%", "").replace("_", "").strip()
        if not needle:
            return []
        pattern = f"%{needle}%"
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
