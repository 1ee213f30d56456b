"""The SQLite backend: one aiosqlite connection in WAL mode, one writer at a time."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from store.db import BOOTSTRAP, Row, Rowcount, Statement, Work, migrations, statements
from store.groupcommit import GroupCommit, Outcome, Unit

T = TypeVar("T")


class _StringAgg:
    """`string_agg(value, separator)` (built in from SQLite 3.44, and in PostgreSQL)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.separator = ","

    def step(self, value: Any, separator: str) -> None:
        if value is not None:
            self.parts.append(str(value))
            self.separator = separator

    def finalize(self) -> str | None:
        return self.separator.join(self.parts) if self.parts else None


class _Sqlite3(sqlite3.Connection):
    """A sqlite3 connection knowing the portable functions older SQLite versions lack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sqlite3.sqlite_version_info < (3, 44):
            self.create_aggregate("string_agg", 2, _StringAgg)  # type: ignore[arg-type]


class SqliteConnection:
    """Queries on the aiosqlite connection (inside a transaction, or in autocommit)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rowcount:
        """Run one statement; returns how many rows it changed."""
        cursor = await self.conn.execute(sql, params)
        return Rowcount(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        await self.conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a query and return its first row (one hop to the database thread)."""
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query and return all its rows (one hop to the database thread)."""
        return list(await self.conn.execute_fetchall(sql, params))

    execute_fetchall = fetchall


class SqliteDatabase(SqliteConnection):
    """One aiosqlite connection in WAL mode; writes are serialised by an asyncio lock."""

    dialect = "sqlite"
    shared = False

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self._write_lock = asyncio.Lock()
        self._in_transaction = SqliteConnection(conn)
        self._group = GroupCommit(self._run_group)

    @classmethod
    async def open(cls, path: str | Path) -> SqliteDatabase:
        """Open (creating if needed) the database file and bring its schema up to date."""
        conn = await aiosqlite.connect(str(path), isolation_level=None, factory=_Sqlite3)
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
        for statement in BOOTSTRAP:
            await self.conn.execute(statement)
        rows = await self.fetchall("SELECT number FROM schema_migrations")
        applied = {row["number"] for row in rows}
        for number, name, sql in migrations("sqlite"):
            if number in applied:
                continue
            async with self.transaction() as conn:
                for statement in statements(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name)
                )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error)."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._in_transaction
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def atomic(self, work: Callable[[], Work[T]]) -> T:
        """Run a unit of statements as one atomic write, in the database thread (group
        commit: units arriving while a commit runs share the next transaction and hop, each in
        its own savepoint — store/groupcommit.py)."""
        return await self._group.submit(work)  # type: ignore[no-any-return]

    async def _run_group(self, works: list[Unit]) -> list[Outcome]:
        async with self._write_lock:
            # aiosqlite's own way of running a call in its thread.
            return await self.conn._execute(partial(_group, self.conn._conn, works))  # type: ignore[no-any-return]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rowcount:
        """Run one write statement, atomic on its own (autocommit: one hop, under the lock)."""
        async with self._write_lock:
            return await super().execute(sql, params)

    async def execute_returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one write statement with RETURNING, atomic on its own; its rows (one hop)."""
        async with self._write_lock:
            return await super().fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per row, all in one transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def bulk_load(self, on: bool) -> None:
        """A big page cache and checkpoints left for the end during an import (several times
        faster bulk inserts into indexed tables); back to normal, checkpointing, after."""
        if on:
            await self.conn.execute("PRAGMA cache_size = -65536")
            await self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        else:
            await self.conn.execute("PRAGMA cache_size = -2000")
            await self.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _group(raw: sqlite3.Connection, works: list[Unit]) -> list[Outcome]:
    """Units of statements in one write transaction: (ok, result or exception) per unit.
    Runs in the database thread. Units run straight in one transaction; only when one fails
    is the transaction rolled back and the group run again, each unit in its own savepoint,
    so a unit that fails rolls back alone (two statements fewer per unit in the usual case)."""
    raw.execute("BEGIN IMMEDIATE")
    try:
        values = [_drive(raw, work()) for work in works]
    except Exception as exc:
        raw.execute("ROLLBACK")
        if len(works) == 1:
            return [(False, exc)]
        return _group_in_savepoints(raw, works)
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return [(True, value) for value in values]


def _group_in_savepoints(raw: sqlite3.Connection, works: list[Unit]) -> list[Outcome]:
    """The units again, each in a savepoint: one that fails rolls back alone."""
    raw.execute("BEGIN IMMEDIATE")
    try:
        outcomes: list[Outcome] = []
        for work in works:
            raw.execute("SAVEPOINT unit")
            try:
                value = _drive(raw, work())
            except Exception as exc:
                raw.execute("ROLLBACK TO unit")
                raw.execute("RELEASE unit")
                outcomes.append((False, exc))
            else:
                raw.execute("RELEASE unit")
                outcomes.append((True, value))
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return outcomes


def _drive(raw: sqlite3.Connection, work: Work[T]) -> T:
    """A unit's statements run one after the other on the raw connection."""
    try:
        statement: Statement = next(work)
        while True:
            if statement.kind == "write":
                result: Any = Rowcount(raw.execute(statement.sql, statement.params).rowcount)
            elif statement.kind == "write_many":
                raw.executemany(statement.sql, statement.params)
                result = None
            else:
                result = raw.execute(statement.sql, statement.params).fetchall()
            statement = work.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
