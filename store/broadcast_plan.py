"""The calendar reminders (planned broadcasts with a key) and the composer drafts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from store.broadcasts import Audience, Broadcast, _broadcast
from store.db import Database
from store.times import to_db


class PlanQueries:
    """Reads and writes of calendar reminders (rows of broadcasts) and broadcast_drafts."""

    db: Database

    # -- calendar plan ---------------------------------------------------------------------

    async def plan_reminder(
        self, key: str, text: str, audience: Audience, send_at: datetime, now: datetime
    ) -> bool:
        """Add a calendar reminder (planned, not enabled) unless that key exists."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO broadcasts (text, audience, send_at, state, plan_key, created_at) "
                "VALUES (?, ?, ?, 'planned', ?, ?) ON CONFLICT(plan_key) DO NOTHING",
                (text, str(audience), to_db(send_at), key, to_db(now)),
            )
            return cursor.rowcount == 1

    async def planned_reminders(self) -> list[Broadcast]:
        """The calendar reminders, in time order."""
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts WHERE plan_key IS NOT NULL ORDER BY send_at, id"
        )
        return [_broadcast(r) for r in rows]

    async def edit_reminder(
        self,
        key: str,
        text: str | None = None,
        audience: Audience | None = None,
        send_at: datetime | None = None,
    ) -> bool:
        """Change a calendar reminder that has not started; False if none matched."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE broadcasts SET text = COALESCE(?, text), "
                "audience = COALESCE(?, audience), send_at = COALESCE(?, send_at) "
                "WHERE plan_key = ? AND state IN ('planned', 'scheduled')",
                (
                    text,
                    None if audience is None else str(audience),
                    None if send_at is None else to_db(send_at),
                    key,
                ),
            )
            return cursor.rowcount == 1

    async def enable_reminder(self, key: str, enabled: bool) -> bool:
        """Schedule (or un-schedule) a calendar reminder that has not started.

        A reminder cancelled before it started can be scheduled again.
        """
        if enabled:
            sql = (
                "UPDATE broadcasts SET state = 'scheduled', finished_at = NULL WHERE plan_key = ? "
                "AND (state = 'planned' OR (state = 'cancelled' AND started_at IS NULL))"
            )
        else:
            sql = (
                "UPDATE broadcasts SET state = 'planned' "
                "WHERE plan_key = ? AND state = 'scheduled'"
            )
        async with self.db.transaction() as conn:
            cursor = await conn.execute(sql, (key,))
            return cursor.rowcount == 1

    # -- composer drafts -------------------------------------------------------------------

    # Who is in the composer, kept in memory: every text message asks, and only the bot
    # process writes drafts (a multi-replica backend would query instead).
    _drafting: set[int] | None = None

    async def _composing(self) -> set[int]:
        if self._drafting is None:
            rows = await self.db.fetchall("SELECT user_id FROM broadcast_drafts")
            self._drafting = {r["user_id"] for r in rows}
        return self._drafting

    async def get_draft(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        """A broadcaster's composer step and data, or None."""
        if user_id not in await self._composing():
            return None
        row = await self.db.fetchone(
            "SELECT step, data FROM broadcast_drafts WHERE user_id = ?", (user_id,)
        )
        return (row["step"], json.loads(row["data"])) if row else None

    async def save_draft(
        self, user_id: int, step: str, data: dict[str, Any], now: datetime
    ) -> None:
        """Record where a broadcaster is in the composer."""
        await self.db.execute(
            "INSERT INTO broadcast_drafts (user_id, step, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET step = excluded.step, data = excluded.data, "
            "updated_at = excluded.updated_at",
            (user_id, step, json.dumps(data), to_db(now)),
        )
        (await self._composing()).add(user_id)

    async def delete_draft(self, user_id: int) -> None:
        """Leave the composer."""
        await self.db.execute("DELETE FROM broadcast_drafts WHERE user_id = ?", (user_id,))
        (await self._composing()).discard(user_id)
