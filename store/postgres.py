"""The PostgreSQL backend (asyncpg): a connection pool shared by the bot's coroutines.

The store's portable SQL runs as written, with its `?` placeholders numbered `$1, $2…`.
Write transactions take one transaction-scoped advisory lock, so that they run one at a time
across every process sharing the database, as they do on SQLite: the queries' read-then-write
transactions stay correct without retries. Single write statements take it too (grouped with
the units in flight): a statement changing several rows outside it could lock them in another
order than a group transaction and deadlock with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

import asyncpg

from store.db import (
    BOOTSTRAP,
    Row,
    Rowcount,
    Work,
    ddl,
    migrations,
    read,
    run_work,
    statements,
    write,
    write_many,
)
from store.groupcommit import GroupCommit, Outcome, Unit

T = TypeVar("T")

POOL_SIZE = 10
# Advisory lock keys (any 64-bit numbers no other application on the database uses).
WRITE_LOCK = 0x766F7465626F7401  # "votebot" 01
MIGRATE_LOCK = 0x766F7465626F7402


@lru_cache(maxsize=4096)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2…` (a `?` inside quotes is left alone)."""
    out: list[str] = []
    quote = ""
    count = 0
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


def _count(status: str) -> int:
    """Rows changed, from a command tag such as `INSERT 0 3`, `UPDATE 1` or `DELETE 0`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PostgresConnection:
    """Queries on one pooled connection (inside a transaction), or on the pool itself."""

    def __init__(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rowcount:
        """Run one statement; returns how many rows it changed."""
        return Rowcount(_count(await self.conn.execute(numbered(sql), *params)))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row (pipelined, atomic)."""
        batch = [tuple(row) for row in rows]
        if batch:
            await self.conn.executemany(numbered(sql), batch)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        row: Row | None = await self.conn.fetchrow(numbered(sql), *params)
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        rows: list[Row] = await self.conn.fetch(numbered(sql), *params)
        return rows

    execute_fetchall = fetchall


class PostgresDatabase(PostgresConnection):
    """An asyncpg pool on one database; migrations applied on open, one process at a time."""

    dialect = "postgresql"
    shared = True

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.pool = pool
        self._group = GroupCommit(self._run_group)

    @classmethod
    async def open(cls, url: str, pool_size: int = POOL_SIZE) -> PostgresDatabase:
        """Connect to the database at `url` and bring its schema up to date."""
        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=pool_size,
            server_settings={"application_name": "votebot"},
        )
        db = cls(pool)
        try:
            await db._migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.pool.close()

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn:
            # Replicas starting together: one migrates, the others wait and find it done.
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK)
            try:
                for statement in BOOTSTRAP:
                    await conn.execute(ddl(statement, self.dialect))
                rows = await conn.fetch("SELECT number FROM schema_migrations")
                applied = {row["number"] for row in rows}
                for number, name, sql in migrations(self.dialect):
                    if number in applied:
                        continue
                    async with conn.transaction():
                        for statement in statements(sql):
                            await conn.execute(statement)
                        await conn.execute(
                            "INSERT INTO schema_migrations (number, name) VALUES ($1, $2)",
                            number,
                            name,
                        )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        """A write transaction on one pooled connection, one at a time across processes."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            yield PostgresConnection(conn)

    async def atomic(self, work: Callable[[], Work[T]]) -> T:
        """Run a unit of statements inside one write transaction (the advisory lock held);
        units arriving while a commit runs share the next one, each in its own savepoint
        (store/groupcommit.py)."""
        return await self._group.submit(work)  # type: ignore[no-any-return]

    async def _run_group(self, works: list[Unit]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        async with self.transaction() as conn:
            for work in works:
                try:
                    async with conn.conn.transaction():  # nested: a savepoint
                        outcomes.append((True, await run_work(conn, work())))
                except Exception as exc:
                    outcomes.append((False, exc))
        return outcomes

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rowcount:
        """Run one write statement under the write lock, grouped with the units in flight: a
        statement changing several rows outside the lock could take their row locks in
        another order than a group and deadlock with it."""

        def work() -> Work[Rowcount]:
            return (yield write(sql, params))  # type: ignore[no-any-return]

        return await self.atomic(work)  # type: ignore[no-any-return]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row, atomic, under the write lock."""
        batch = [tuple(row) for row in rows]

        def work() -> Work[None]:
            yield write_many(sql, batch)

        if batch:
            await self.atomic(work)

    async def execute_returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one write statement with RETURNING under the write lock; returns its rows."""

        def work() -> Work[list[Row]]:
            return (yield read(sql, params))  # type: ignore[no-any-return]

        return await self.atomic(work)  # type: ignore[no-any-return]

    async def bulk_load(self, on: bool) -> None:
        """Nothing to tune: the server manages its own cache and checkpoints."""
