"""The contact directory: category (× département) → address for roll corrections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from store.db import Database


@dataclass(frozen=True)
class DirectoryEntry:
    """One address; `departement` is None when the address does not depend on it."""

    category: str
    departement: str | None
    address: str


class DirectoryQueries:
    """Reads and writes of the directory table."""

    db: Database

    async def directory_list(self) -> list[DirectoryEntry]:
        """Every address, by category then département."""
        rows = await self.db.fetchall(
            "SELECT category, departement, address FROM directory ORDER BY category, departement"
        )
        return [
            DirectoryEntry(r["category"], r["departement"] or None, r["address"]) for r in rows
        ]

    async def directory_replace(self, entries: Iterable[DirectoryEntry]) -> int:
        """Replace the whole directory in one transaction; returns the number of rows."""
        rows = [(e.category, e.departement or "", e.address) for e in entries]
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM directory")
            await conn.executemany(
                "INSERT INTO directory (category, departement, address) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    async def directory_seed(self, entries: Iterable[DirectoryEntry]) -> bool:
        """Fill the directory only if it is empty; True if it was seeded."""
        rows = [(e.category, e.departement or "", e.address) for e in entries]
        async with self.db.transaction() as conn:
            row = await conn.fetchone("SELECT COUNT(*) FROM directory")
            if row is not None and row[0]:
                return False
            await conn.executemany(
                "INSERT INTO directory (category, departement, address) VALUES (?, ?, ?)", rows
            )
        return True
