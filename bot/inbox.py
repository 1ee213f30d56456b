"""Works through the durable inbox: one voter's updates in order, different voters at once.

Front-end neutral: the Telegram adapter stores what it receives (`store.inbox_add`) and gives
the worker a function that handles one stored update. A claim is a lease in the store, renewed
while the update is in hand, so a database shared by several processes can serve the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from store import Claimed, ClaimFor, Intake, Store, TurnState

log = logging.getLogger(__name__)

CONCURRENCY = 128  # updates in hand at once (each of a different voter; the turns between
# storing and sending their replies are bounded apart: engine.REPLYING)
LEASE = 10.0  # seconds a claim lasts unless renewed (a dead worker's updates wait this long)
RETRY_UNSENT_AFTER = 2.0  # seconds before an update whose replies failed is handled again
MAX_UNSENT = 20  # tries to deliver replies before the update is finished anyway (logged)
MAX_FAILURES = 3  # handling raised this many times: the update is set aside
FLOOD_CAP = 5  # a voter's queued updates beyond this are dropped (they are told once)
TICK = 0.5  # seconds between looks at the inbox when nothing wakes the worker


class Poison(Exception):
    """The stored update cannot be read at all: set aside at once."""


@dataclass
class Job:
    """The update being handled, as the turn pipeline sees it (through `current`)."""

    update_id: int
    attempts: int = 0
    skip: int = 0  # replies already delivered on an earlier try
    voter: int = 0
    turn: TurnState | None = None  # the voter's state, read when the update was leased
    unsent: bool = False  # replies could not be delivered: handle again later
    failed: bool = False  # a handler raised
    finished: bool = False  # the store already finished it (with its step or replies)


current: ContextVar[Job | None] = ContextVar("inbox_job", default=None)
Handle = Callable[[Claimed], Awaitable[None]]


def owner_id() -> str:
    """This process as a lease owner: host, process id, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(owner: str) -> bool:
    """Whether a lease owner may still run (another host's workers are assumed alive)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class InboxWorker:
    """Leases updates from the store and handles each in its own task, boundedly."""

    def __init__(
        self,
        store: Store,
        handle: Handle,
        concurrency: int = CONCURRENCY,
        lease: float = LEASE,
        on_set_aside: Callable[[Claimed, str], Awaitable[None]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or Clock()
        self.handle = handle
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease)
        self.on_set_aside = on_set_aside
        self.owner = owner_id()
        self.tasks: set[asyncio.Task[None]] = set()
        self.in_hand: set[int] = set()
        self.handled = 0  # updates finished by this worker (for tests and benchmarks)
        self._partial: dict[int, int] = {}  # update id → replies delivered before a failure
        self._unsent: dict[int, int] = {}  # update id → failed deliveries
        self._wake = asyncio.Event()
        # Updates this process stored and has not claimed yet, per voter: when the database is
        # this process's alone, a finished update calls for a claim only if its voter has more
        # waiting (other processes' updates and retries are found by the periodic look).
        self._waiting: Counter[int] = Counter()
        self._voters: dict[asyncio.Task[None], int] = {}  # the voter of each update in hand
        self._backlog = True  # updates this process did not store may wait: claim after each
        self._reserved = 0  # slots promised to a claim under way
        self.running = False

    def now(self) -> datetime:
        """Wall-clock time for leases (never the election clock, which may be fixed)."""
        return self.clock.real()

    async def recover(self) -> None:
        """Release the leases of workers of this host that are no longer running."""
        for owner in await self.store.inbox_owners():
            if not _alive(owner):
                log.info("releasing the updates held by %s (gone)", owner)
                await self.store.inbox_release(owner)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle updates until `stop` is set, then let those in hand finish."""
        await self.recover()
        renew = asyncio.create_task(self._renew(stop))
        self.running = True
        try:
            while not stop.is_set():
                self._wake.clear()
                free = self._free()
                if free > 0:
                    now = self.now()
                    self._reserved += free
                    try:
                        claimed = await self.store.inbox_claim(
                            self.owner, free, now, now + self.lease
                        )
                    except Exception:  # e.g. the database is busy: look again shortly
                        log.exception("could not claim updates from the inbox")
                        claimed = None
                    finally:
                        self._reserved -= free
                    if claimed is not None:
                        self._take(claimed)
                        self._backlog = self._backlog and bool(claimed)
                await _first(self._wake, stop, TICK)
        finally:
            self.running = False
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=30)
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew

    def offer(self) -> ClaimFor | None:
        """A claim for the intake to run in the transaction that stores new updates (its
        slots reserved until `adopt`); None while the worker is not running or is full."""
        free = self._free() if self.running else 0
        if free <= 0:
            return None
        self._reserved += free
        return ClaimFor(self.owner, free, self.now() + self.lease)

    def adopt(self, offer: ClaimFor | None, result: Intake | None) -> None:
        """Take what the intake stored (`result`, None if the store failed) and claimed."""
        if offer is not None:
            self._reserved -= offer.limit
        if result is None:
            self._wake.set()
            return
        if not self.store.shared:  # another process may claim them: every finish claims
            self._waiting.update(result.queued)
        self._take(result.claimed)
        if offer is None or len(result.claimed) >= offer.limit:
            self._wake.set()  # the worker may have room, or more may be ready

    def _free(self) -> int:
        return self.concurrency - len(self.tasks) - self._reserved

    def _take(self, claimed: Iterable[Claimed]) -> None:
        for item in claimed:
            self._start(item)
            if item.voter in self._waiting:
                self._claimed(item.voter)
            else:  # stored before a restart, by another process, or a retry
                self._backlog = True

    def _start(self, item: Claimed) -> None:
        self.in_hand.add(item.update_id)
        task = asyncio.create_task(self._one(item))
        self.tasks.add(task)
        self._voters[task] = item.voter
        task.add_done_callback(self._finished)

    def _claimed(self, voter: int) -> None:
        left = self._waiting[voter] - 1
        if left > 0:
            self._waiting[voter] = left
        else:
            self._waiting.pop(voter, None)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        voter = self._voters.pop(task, None)
        if self.store.shared or self._backlog or voter in self._waiting or self._others_waiting():
            self._wake.set()

    def _others_waiting(self) -> bool:
        """Whether a voter with a stored update has none in hand (the worker was full)."""
        if len(self._waiting) > len(self._voters):
            return True
        in_hand = set(self._voters.values())
        return any(v not in in_hand for v in self._waiting)

    async def _one(self, item: Claimed) -> None:
        uid = item.update_id
        job = Job(uid, item.attempts, self._partial.pop(uid, 0), item.voter, item.turn)
        token = current.set(job)
        try:
            await self.handle(item)
        except Poison as exc:
            await self._set_aside(item, f"unreadable: {exc}")
            return
        except Exception as exc:  # a handler that raised past the front end's error handler
            log.exception("update %s: handling failed", uid)
            job.failed = True
            job.unsent = False
            error = type(exc).__name__  # its message may quote what the voter wrote
        else:
            error = "handler error"
        finally:
            current.reset(token)
            self.in_hand.discard(uid)
        try:
            await self._settle(item, job, error)
        except Exception:  # the store is failing: the lease runs out and it is tried again
            log.exception("update %s: could not record its outcome", uid)

    async def _settle(self, item: Claimed, job: Job, error: str) -> None:
        uid = item.update_id
        now = self.now()
        if job.failed:
            tries = await self.store.inbox_retry(uid, now + _backoff(item.attempts), failed=True)
            if tries >= MAX_FAILURES:
                await self._set_aside(item, error)
            return
        if job.unsent:
            count = self._unsent[uid] = self._unsent.get(uid, 0) + 1
            if count < MAX_UNSENT:
                self._partial[uid] = job.skip
                when = now + timedelta(seconds=RETRY_UNSENT_AFTER)
                await self.store.inbox_retry(uid, when, failed=False)
                return
            log.warning("update %s: replies still not delivered, giving up", uid)
        self._unsent.pop(uid, None)
        if not job.finished:
            await self.store.inbox_done(uid, now)
        self.handled += 1

    async def _set_aside(self, item: Claimed, error: str) -> None:
        log.warning("update %s set aside (voter %s): %s", item.update_id, item.voter, error)
        await self.store.inbox_set_aside(item.update_id, self.now(), error)
        self.handled += 1
        if self.on_set_aside is not None:
            try:
                await self.on_set_aside(item, error)
            except Exception:
                log.warning("could not tell voter %s about update %s", item.voter, item.update_id)

    async def _renew(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if self.in_hand:
                try:
                    await self.store.inbox_renew(self.owner, self.now() + self.lease)
                except Exception:
                    log.exception("could not renew the inbox leases")


async def _first(a: asyncio.Event, b: asyncio.Event, timeout: float) -> None:
    """Wait until either event is set, at most `timeout` seconds."""
    waits = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waits:
        waiter.cancel()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(0.5 * 2**attempts, 10.0))
