"""Named leases: which process runs a single-runner job (broadcasts, retention purge) now."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.db import Database
from store.times import to_db


class LeaseQueries:
    """Reads and writes of the leases table (created with the database, see store/db.py)."""

    db: Database

    async def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take the lease `name` if it is free or expired, or renew it if `holder` has it,
        until `now + ttl`; False if another holder has it (and it has not expired)."""
        changed = await self.db.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
            (name, holder, to_db(now + ttl), to_db(now)),
        )
        return changed == 1

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease up so another process may take it at once; False if not held."""
        released = await self.db.execute(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
        )
        return released == 1

    async def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease `name` now, or None if it is free or expired."""
        row = await self.db.fetchone(
            "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, to_db(now))
        )
        return row["holder"] if row else None
