"""Group commit: atomic units that arrive while a commit is under way go together in the next.

Each backend supplies how to run a group — one write transaction, each unit in its own
savepoint — and gets back, per unit, its result or the error that rolled it back alone. One
transaction (on SQLite one hop to its thread, on PostgreSQL one round of the write lock) then
serves every turn in flight, where they used to queue one transaction each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from store.db import Work

Unit = Callable[[], Work[Any]]
Outcome = tuple[bool, Any]  # (committed, its result) or (rolled back, its error)
RunGroup = Callable[[list[Unit]], Awaitable[list[Outcome]]]
GROUP_MAX = 256  # units in one transaction at most


class GroupCommit:
    """Queues atomic units and commits them in groups, one group at a time."""

    def __init__(self, run: RunGroup, limit: int = GROUP_MAX) -> None:
        self.run, self.limit = run, limit
        self._units: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, work: Unit) -> Any:
        """Commit a unit with whatever else is waiting; its result, or its error raised."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._units.append((work, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit())
        # A caller that gives up cancels only its future: the unit stays in its group.
        return await done

    async def _commit(self) -> None:
        try:
            while self._units:
                units, self._units = self._units[: self.limit], self._units[self.limit :]
                try:
                    outcomes = await self.run([work for work, _ in units])
                except BaseException as exc:  # the transaction itself failed: all of it
                    for _, done in units:
                        if not done.done():
                            done.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, done), (ok, value) in zip(units, outcomes, strict=True):
                    if done.done():
                        continue
                    if ok:
                        done.set_result(value)
                    else:
                        done.set_exception(value)
        finally:
            self._committer = None
