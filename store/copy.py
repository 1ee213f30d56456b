"""Move a SQLite store to PostgreSQL: every table, row for row, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from store import SqlStore
from store.postgres import PostgresDatabase
from store.sqlite import SqliteDatabase

CHUNK = 5000
# Owned by the database layer: migrations are applied on open, leases are not worth moving.
SKIPPED = ("schema_migrations", "leases", "roll_import")  # roll_import: an import cut short
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "bigint": int,
    "integer": int,
    "double precision": float,
    "text": str,
    "bytea": bytes,
}


class CopyError(Exception):
    """The copy cannot be done (target not empty, schemas differ, a value does not fit)."""


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source file and in the target database after the copy."""

    table: str
    source: int
    target: int


async def source_tables(source: SqlStore) -> dict[str, int]:
    """The SQLite tables to copy, in creation order (parents before children), with counts."""
    db = source.db
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid"
    )
    names = [r["name"] for r in rows if r["name"] not in SKIPPED]
    counts = {}
    for name in names:
        # Table names come from sqlite_master, never from input.
        row = await db.fetchone(f'SELECT COUNT(*) AS n FROM "{name}"')
        counts[name] = int(row["n"]) if row else 0
    return counts


async def copy_store(
    source: SqlStore,
    target: SqlStore,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> list[TableCount]:
    """Copy every row of `source` (SQLite) into `target` (an empty PostgreSQL store).

    All in one transaction: on any error nothing is kept. `progress(table, rows)` is called
    after each chunk. Returns the row counts of each table on both sides.
    """
    if not isinstance(source.db, SqliteDatabase) or not isinstance(target.db, PostgresDatabase):
        raise CopyError("copy goes from a SQLite file to a PostgreSQL database")
    counts = await source_tables(source)
    async with target.db.pool.acquire() as conn, conn.transaction():
        columns = await _target_columns(conn, list(counts))
        for table in counts:
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                raise CopyError(f"the target database is not empty (table {table})")
        for table in counts:
            await _copy_table(source.db, conn, table, columns[table], progress)
            await _reset_identity(conn, table, columns[table])
        result = []
        for table, expected in counts.items():
            copied = int(await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))
            result.append(TableCount(table, expected, copied))
        wrong = [c for c in result if c.source != c.target]
        if wrong:
            raise CopyError(f"row counts differ: {wrong}")
    return result


async def _target_columns(conn: Any, tables: list[str]) -> dict[str, dict[str, tuple[str, bool]]]:
    """Each table's columns in the target: name → (data type, is identity)."""
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) "
        "ORDER BY table_name, ordinal_position",
        tables,
    )
    found: dict[str, dict[str, tuple[str, bool]]] = {}
    for r in rows:
        found.setdefault(r["table_name"], {})[r["column_name"]] = (
            r["data_type"],
            r["is_identity"] == "YES",
        )
    missing = [t for t in tables if t not in found]
    if missing:
        raise CopyError(f"tables missing in the target (older schema?): {missing}")
    return found


async def _copy_table(
    source: SqliteDatabase,
    conn: Any,
    table: str,
    target_columns: dict[str, tuple[str, bool]],
    progress: Callable[[str, int], None],
) -> None:
    info = await source.fetchall(f'PRAGMA table_info("{table}")')
    names = [r["name"] for r in info]
    if set(names) != set(target_columns):
        raise CopyError(f"{table}: columns differ ({sorted(names)} / {sorted(target_columns)})")
    converters = [_CONVERT.get(target_columns[n][0], lambda v: v) for n in names]
    quoted = ", ".join(f'"{n}"' for n in names)
    last = None
    while True:
        # Keyset paging on the row id: one index probe per chunk however big the table.
        rows = await source.fetchall(
            f'SELECT rowid AS _rowid, {quoted} FROM "{table}" '
            "WHERE ? IS NULL OR rowid > ? ORDER BY rowid LIMIT ?",
            (last, last, CHUNK),
        )
        if not rows:
            return
        records = []
        for row in rows:
            try:
                records.append(
                    tuple(
                        None if row[i + 1] is None else convert(row[i + 1])
                        for i, convert in enumerate(converters)
                    )
                )
            except (TypeError, ValueError) as exc:
                raise CopyError(f"{table} row {row['_rowid']}: {exc}") from None
        await conn.copy_records_to_table(table, records=records, columns=names)
        last = rows[-1]["_rowid"]
        progress(table, len(rows))


async def _reset_identity(conn: Any, table: str, columns: dict[str, tuple[str, bool]]) -> None:
    """Move an identity column's sequence past the ids copied, so new rows get fresh ones."""
    for name, (_, identity) in columns.items():
        if identity:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), "
                f'COALESCE(MAX("{name}"), 1), MAX("{name}") IS NOT NULL) FROM "{table}"',
                table,
                name,
            )
