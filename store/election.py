"""Election facts set while the bot runs: every change kept, the latest one in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.times import from_db, to_db


@dataclass(frozen=True)
class ElectionSetting:
    """One change of one fact: who set it, when, to what (None: not published)."""

    key: str
    value: str | None
    set_by: int | None
    set_at: datetime


class ElectionQueries:
    """Reads and writes of the election_settings table."""

    db: Database

    async def election_set(
        self, election: str, key: str, value: str | None, by: int | None, now: datetime
    ) -> None:
        """Record a new value for a fact (validated by the caller)."""
        await self.db.execute(
            "INSERT INTO election_settings (election, key, value, set_by, set_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (election, key, value, by, to_db(now)),
        )

    async def election_history(self, election: str) -> list[ElectionSetting]:
        """Every change for an election, oldest first."""
        rows = await self.db.fetchall(
            "SELECT key, value, set_by, set_at FROM election_settings WHERE election = ? "
            "ORDER BY id",
            (election,),
        )
        return [
            ElectionSetting(r["key"], r["value"], r["set_by"], from_db(r["set_at"])) for r in rows
        ]

    async def election_current(self, election: str) -> dict[str, str | None]:
        """The value in force for each fact that was ever set (the latest change)."""
        return {s.key: s.value for s in await self.election_history(election)}
