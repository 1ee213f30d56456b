"""The electoral roll, imported by generation (swapped in one transaction), and its audit log.

An import writes a new generation in chunks while the previous one stays in service; a
single small transaction then makes the new generation active. Rows of inactive generations
(replaced, or left by an interrupted import) are deleted afterwards.

On SQLite the new generation is loaded into `roll_import`, a copy of `roll_entries` without
its indexes, which are built once the rows are in (a sort, instead of two B-trees updated
row by row: the import's largest cost); the swap then drops the old table and renames the
new one in the same transaction. The indexes are named after their generation
(`roll_entries_key_g7`). On PostgreSQL rows go straight into `roll_entries`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.db import Database, Row, Work, write_many
from store.times import from_db, to_db

ACTIVE = "(SELECT id FROM roll_generations WHERE active = 1)"
STAGING = "roll_import"  # SQLite: the generation being imported, before its indexes
_TABLE_NAME = re.compile(r'^CREATE TABLE\s+"?roll_entries"?', re.I)
_INDEX_HEAD = re.compile(
    r'^CREATE (UNIQUE )?INDEX\s+"?(\w+?)(_g\d+)?"?\s+ON\s+"?roll_entries"?', re.I
)
_ENTRY = "surname, first_name, ballot, category, departement, establishment, key"


@dataclass(frozen=True)
class RollEntry:
    """One line of the roll: a person listed for one ballot."""

    surname: str
    first_name: str
    ballot: str
    category: str | None
    departement: str | None
    establishment: str | None
    key: str


@dataclass(frozen=True)
class RollGeneration:
    """One import of the roll."""

    id: int
    source: str
    started_at: datetime
    completed_at: datetime | None
    imported: int
    rejected: int
    active: bool


@dataclass(frozen=True)
class RollStats:
    """A summary of the roll in service."""

    generation: RollGeneration | None
    entries: int
    people: int
    by_ballot: dict[str, int]
    by_category: dict[str, int]
    by_departement: dict[str, int]
    lookups: int
    lookups_found: int
    refused: tuple[tuple[int, int], ...] = ()  # (user id, refusals) by the rate limits


# (generation, key, loose, surname, first_name, ballot, category, departement, establishment):
# the row as inserted, so an import's 200,000 rows are not copied once more to add the first.
RollRow = tuple[int, str, str, str, str, str, str | None, str | None, str | None]


def _entry(row: Row) -> RollEntry:
    return RollEntry(
        row["surname"],
        row["first_name"],
        row["ballot"],
        row["category"],
        row["departement"],
        row["establishment"],
        row["key"],
    )


def _generation(row: Row) -> RollGeneration:
    done = row["completed_at"]
    return RollGeneration(
        id=row["id"],
        source=row["source"],
        started_at=from_db(row["started_at"]),
        completed_at=from_db(done) if done else None,
        imported=row["imported"],
        rejected=row["rejected"],
        active=bool(row["active"]),
    )


class RollQueries:
    """Reads and writes of the roll tables."""

    db: Database

    # -- import ----------------------------------------------------------------------------

    async def roll_begin(self, source: str, now: datetime) -> int:
        """Start a new (inactive) generation after clearing leftovers; returns its id.

        Until `roll_end`, the database is tuned for bulk loading (on SQLite a bigger page
        cache, checkpoints left for the end, and rows loaded before their indexes are built).
        """
        await self.roll_discard_inactive()
        await self.db.bulk_load(True)
        async with self.db.transaction() as conn:
            if self.db.dialect == "sqlite":
                # The schema comes from sqlite_master (the migrations'), never from input.
                row = await conn.fetchone(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'roll_entries'"
                )
                assert row is not None
                await conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
                await conn.execute(_TABLE_NAME.sub(f"CREATE TABLE {STAGING}", row["sql"]))
            row = await conn.fetchone(
                "INSERT INTO roll_generations (source, started_at) VALUES (?, ?) RETURNING id",
                (source, to_db(now)),
            )
            assert row is not None
            return int(row["id"])

    async def roll_add(self, generation: int, rows: Sequence[RollRow]) -> None:
        """Add a chunk of rows to a generation being imported (one transaction, one hop);
        each row starts with that generation (ValueError otherwise)."""
        if any(row[0] != generation for row in rows):
            raise ValueError(f"a roll row is not of generation {generation}")
        table = STAGING if self.db.dialect == "sqlite" else "roll_entries"

        def work() -> Work[None]:
            yield write_many(
                f"INSERT INTO {table} (generation, key, loose, surname, first_name, ballot, "
                "category, departement, establishment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        await self.db.atomic(work)

    async def roll_activate(
        self, generation: int, imported: int, rejected: int, now: datetime
    ) -> None:
        """Put a complete generation in service, in one transaction."""
        sqlite = self.db.dialect == "sqlite"
        if sqlite:
            pending = await self.db.fetchone(
                "SELECT 1 FROM roll_generations WHERE id = ? AND completed_at IS NULL",
                (generation,),
            )
            if pending is None:
                raise RuntimeError(f"roll generation {generation} is not an import in progress")
            await self._index_staging(generation)
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE roll_generations SET active = 0 WHERE active = 1")
            cursor = await conn.execute(
                "UPDATE roll_generations SET active = 1, completed_at = ?, imported = ?, "
                "rejected = ? WHERE id = ? AND completed_at IS NULL",
                (to_db(now), imported, rejected, generation),
            )
            if cursor.rowcount != 1:
                raise RuntimeError(f"roll generation {generation} is not an import in progress")
            if sqlite:
                await conn.execute("DROP TABLE roll_entries")
                await conn.execute(f"ALTER TABLE {STAGING} RENAME TO roll_entries")

    async def _index_staging(self, generation: int) -> None:
        """SQLite: build the indexes of `roll_entries` on the loaded generation, each one
        named after it (index names are unique in a database, and the old ones stay in
        service until the swap)."""
        rows = await self.db.fetchall(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'roll_entries' "
            "AND sql IS NOT NULL"
        )
        for row in rows:
            sql = _INDEX_HEAD.sub(
                lambda m: f"CREATE {m[1] or ''}INDEX {m[2]}_g{generation} ON {STAGING}",
                row["sql"],
            )
            async with self.db.transaction() as conn:
                await conn.execute(sql)

    async def roll_end(self) -> None:
        """After an import (complete or not): drop what is not in service, checkpoint."""
        await self.roll_discard_inactive()
        if self.db.dialect == "sqlite":
            async with self.db.transaction() as conn:
                await conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
        await self.db.bulk_load(False)

    async def roll_discard_inactive(self) -> int:
        """Delete every generation not in service (replaced or interrupted); returns rows."""
        rows = await self.db.fetchall("SELECT id FROM roll_generations WHERE active = 0")
        deleted = 0
        for row in rows:
            async with self.db.transaction() as conn:
                cursor = await conn.execute(
                    "DELETE FROM roll_entries WHERE generation = ?", (row["id"],)
                )
                deleted += max(cursor.rowcount, 0)
                await conn.execute(
                    "DELETE FROM roll_generations WHERE id = ? AND active = 0", (row["id"],)
                )
        return deleted

    # -- look-ups --------------------------------------------------------------------------

    async def roll_active(self) -> RollGeneration | None:
        """The generation in service, or None before the first import."""
        row = await self.db.fetchone("SELECT * FROM roll_generations WHERE active = 1")
        return _generation(row) if row else None

    async def roll_match(self, key: str, loose: str) -> list[RollEntry]:
        """Entries whose key is `key` or whose letters (sorted, particles kept) are `loose`.

        One round trip, two index probes; the caller tells exact from loose by the key.
        """
        rows = await self.db.fetchall(
            f"SELECT {_ENTRY} FROM roll_entries WHERE generation = {ACTIVE} AND key = ? "
            f"UNION ALL SELECT {_ENTRY} FROM roll_entries WHERE generation = {ACTIVE} "
            "AND loose = ? AND key != ? LIMIT 100",
            (key, loose, key),
        )
        return [_entry(r) for r in rows]

    async def roll_stats(self, since: datetime) -> RollStats:
        """Counts of the roll in service, and look-ups since `since`."""
        generation = await self.roll_active()
        where = f"WHERE generation = {ACTIVE}"
        row = await self.db.fetchone(
            f"SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS p FROM roll_entries {where}"
        )

        async def grouped(column: str) -> dict[str, int]:
            # Column names come from the fixed list below, never from input.
            rows = await self.db.fetchall(
                f"SELECT COALESCE({column}, '') AS v, COUNT(*) AS n FROM roll_entries {where} "
                "GROUP BY v ORDER BY n DESC, v"
            )
            return {r["v"]: r["n"] for r in rows}

        looked = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(found), 0) AS f FROM roll_lookups "
            "WHERE at >= ? AND refused = 0",
            (to_db(since),),
        )
        refused = await self.db.fetchall(
            "SELECT user_id, COUNT(*) AS n FROM roll_lookups WHERE at >= ? AND refused = 1 "
            "GROUP BY user_id ORDER BY n DESC, user_id LIMIT 20",
            (to_db(since),),
        )
        return RollStats(
            generation=generation,
            entries=row["n"] if row else 0,
            people=row["p"] if row else 0,
            by_ballot=await grouped("ballot"),
            by_category=await grouped("category"),
            by_departement=await grouped("departement"),
            lookups=looked["n"] if looked else 0,
            lookups_found=int(looked["f"]) if looked else 0,  # SUM: a decimal on PostgreSQL
            refused=tuple((r["user_id"], r["n"]) for r in refused),
        )

    # -- audit and rate limit --------------------------------------------------------------

    async def roll_log_lookup(self, user_id: int, now: datetime, found: bool) -> None:
        """Record that a user looked someone up (the name asked is not kept)."""
        await self.db.execute(
            "INSERT INTO roll_lookups (user_id, at, found) VALUES (?, ?, ?)",
            (user_id, to_db(now), int(found)),
        )

    async def roll_lookups_since(self, user_id: int, since: datetime) -> list[datetime]:
        """When a user looked someone up since `since`, oldest first (refusals not counted)."""
        rows = await self.db.fetchall(
            "SELECT at FROM roll_lookups WHERE user_id = ? AND at >= ? AND refused = 0 "
            "ORDER BY at",
            (user_id, to_db(since)),
        )
        return [from_db(r["at"]) for r in rows]

    async def roll_lookups_count(self, since: datetime) -> int:
        """Look-ups by every user since `since` (the global daily cap; refusals not counted)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM roll_lookups WHERE at >= ? AND refused = 0",
            (to_db(since),),
        )
        return int(row["n"]) if row else 0

    async def roll_log_refusal(self, user_id: int, now: datetime, since: datetime) -> int:
        """Record a refused look-up; returns the user's refusals since `since`, this one too."""
        await self.db.execute(
            "INSERT INTO roll_lookups (user_id, at, found, refused) VALUES (?, ?, 0, 1)",
            (user_id, to_db(now)),
        )
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM roll_lookups WHERE user_id = ? AND at >= ? AND refused = 1",
            (user_id, to_db(since)),
        )
        return int(row["n"]) if row else 0
