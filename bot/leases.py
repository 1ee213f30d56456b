"""Single-runner jobs: a named lease in the database decides which process runs them.

Several bot processes may share one PostgreSQL database; the broadcast worker and the
retention purge must still run in one of them at a time. Each job body runs inside
`async with hold(lease) as mine:` and does its work only when `mine`. The holder renews the
lease while it works; when it dies, the lease expires after `ttl` seconds and the next
process asking takes it over. Lease times use the real clock, never VOTEBOT_NOW.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from store import Store

log = logging.getLogger(__name__)

# This process, as a lease holder: host, pid and a random part (pids are reused).
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def utc_now() -> datetime:
    """The real time (leases must expire even when VOTEBOT_NOW freezes the bot's clock)."""
    return datetime.now(UTC)


class Lease:
    """The lease `name`, taken for `ttl` seconds and renewed every `ttl / 3` while held."""

    def __init__(
        self,
        store: Store,
        name: str,
        ttl: float,
        holder: str = PROCESS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.name = name
        self.ttl = ttl
        self.holder = holder
        self.clock = clock
        self._fresh_until = 0.0  # monotonic time until which a renewal is not needed yet

    async def take(self) -> bool:
        """Take the lease or renew it (at most every `ttl / 3`); True while this process has it."""
        started = time.monotonic()
        if started < self._fresh_until:
            return True
        taken = await self.store.take_lease(
            self.name, self.holder, self.clock(), timedelta(seconds=self.ttl)
        )
        if taken:
            if not self._fresh_until:
                log.info("lease %s taken by %s", self.name, self.holder)
            self._fresh_until = started + self.ttl / 3
        elif self._fresh_until:
            log.warning("lease %s lost by %s", self.name, self.holder)
            self._fresh_until = 0.0
        return taken

    async def release(self) -> None:
        """Give the lease up (at shutdown) so another process takes it over at once."""
        self._fresh_until = 0.0
        await self.store.release_lease(self.name, self.holder)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.take()
            except Exception:
                log.exception("lease %s: renewal failed", self.name)


@asynccontextmanager
async def hold(lease: Lease | None) -> AsyncIterator[bool]:
    """Whether this process may run the job now (always, without a lease); renewed meanwhile."""
    if lease is None:
        yield True
        return
    if not await lease.take():
        yield False
        return
    keeper = asyncio.create_task(lease._keep(), name=f"lease-{lease.name}")
    try:
        yield True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
