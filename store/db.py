"""The SQLite connection: pragmas, numbered migrations, one writer at a time."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migrations shipped with the package, in order: (number, name, sql)."""
    found = []
    for item in resources.files("store.migrations").iterdir():
        match = _MIGRATION.match(item.name)
        if match:
            found.append((int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return found


class Database:
    """One aiosqlite connection in WAL mode; writes are serialised by an asyncio lock."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) the database file and bring its schema up to date."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        db = cls(conn)
        await db._migrate()
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        rows = await self.fetchall("SELECT number FROM schema_migrations")
        applied = {row["number"] for row in rows}
        for number, name, sql in migrations():
            if number in applied:
                continue
            async with self.transaction():
                for statement in _statements(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(
                    "INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name)
                )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error)."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def atomic(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the raw connection in the database thread as one write transaction
        (BEGIN IMMEDIATE … COMMIT, rolled back on error): one hop, however many statements."""

        def run() -> T:
            raw: sqlite3.Connection = self.conn._conn  # aiosqlite's connection, in its thread
            raw.execute("BEGIN IMMEDIATE")
            try:
                result = work(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
            return result

        async with self._write_lock:
            # aiosqlite's own way of running a call in its thread (as execute_fetchall does).
            return await self.conn._execute(run)  # type: ignore[no-any-return]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one write statement, atomic on its own (autocommit: one hop, under the lock)."""
        async with self._write_lock:
            await self.conn.execute(sql, params)

    async def execute_returning(
        self, sql: str, params: Sequence[Any] = ()
    ) -> Iterable[aiosqlite.Row]:
        """Run one write statement with RETURNING, atomic on its own; its rows (one hop)."""
        async with self._write_lock:
            return await self.conn.execute_fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        """Run a query and return its first row (one hop to the database thread)."""
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> Iterable[aiosqlite.Row]:
        """Run a query and return all its rows (one hop to the database thread)."""
        return await self.conn.execute_fetchall(sql, params)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (our migrations hold no ';' or '--' in literals)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
