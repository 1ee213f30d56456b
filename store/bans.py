"""Bans from the support relay (kept through erasure) and the count behind the handoff cap."""

from __future__ import annotations

from datetime import datetime

from store.db import Database
from store.times import from_db, to_db


class BanQueries:
    """Reads and writes of `bans`; handoffs a voter asked for, counted."""

    db: Database

    async def ban_voter(
        self, user_id: int, by: int | None, now: datetime, until: datetime | None = None
    ) -> None:
        """Stop relaying a voter to support, until `until` (None: for good). `by` and `now`
        are not kept: the row survives the voter's erasure and holds nothing else."""
        value = to_db(until) if until is not None else None
        await self.db.execute(
            "INSERT INTO bans (user_id, until) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
            (user_id, value),
        )

    async def unban_voter(self, user_id: int) -> bool:
        """Lift a ban; False if there was none."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM bans WHERE user_id = ?", (user_id,))
            return cursor.rowcount == 1

    async def banned_until(self, user_id: int) -> tuple[bool, datetime | None]:
        """(banned, until): whether a ban row exists, and when it ends (None: for good)."""
        row = await self.db.fetchone("SELECT until FROM bans WHERE user_id = ?", (user_id,))
        if row is None:
            return False, None
        return True, from_db(row["until"]) if row["until"] else None

    async def is_banned(self, user_id: int, now: datetime | None = None) -> bool:
        """Whether support no longer hears from this voter (at `now`, for a ban with an end)."""
        banned, until = await self.banned_until(user_id)
        return banned and (until is None or now is None or until > now)

    async def handoffs_asked_since(self, user_id: int, since: datetime) -> int:
        """How many handoffs the voter asked for (not opened by staff) since `since`."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM handoffs "
            "WHERE user_id = ? AND opened_by IS NULL AND opened_at >= ?",
            (user_id, to_db(since)),
        )
        return int(row["n"]) if row else 0
