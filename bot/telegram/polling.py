"""Long polling that confirms an update to Telegram only once it has been handled.

PTB's own updater confirms a batch (next `getUpdates` offset) as soon as it is queued, so a
bot killed with updates in flight loses them. Here the offset never passes the oldest update
still being handled or whose replies could not be sent: Telegram re-delivers those after a
restart (or now, for a failed send), and the engine answers each update exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from functools import partial

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.telegram.guards import parse_update
from bot.telegram.send import with_retry

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram holds an empty getUpdates
RETRY_UNSENT_AFTER = 2.0  # seconds before an update whose replies failed is handled again
FIRST_RETRY = 0.25  # seconds before polling again after a failed getUpdates (then doubled)
READ_MARGIN = 5  # seconds allowed on top of the long-poll time-out
ALL_TYPES = list(Update.ALL_TYPES)
MAX_ATTEMPTS = 20  # then the update is confirmed anyway (logged): Telegram stays unreachable
UNSENT = "unsent_updates"  # bot_data key: ids whose replies could not be delivered


class Poller:
    """Fetches updates, hands each to the Application, and confirms only finished ones."""

    def __init__(
        self, app: Application, limit: int = 100, timeout: int = POLL_TIMEOUT, idle: float = 0
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.idle = idle  # pause after an empty answer (0: Telegram's long poll is the pause)
        self.highest = -1  # the newest update id ever taken
        self.pending: set[int] = set()  # taken, not finished (or finished but unsent)
        self.retry: dict[int, float] = {}  # unsent update id → when to handle it again
        self.attempts: dict[int, int] = {}
        self.progress = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        app.bot_data.setdefault(UNSENT, set())

    @property
    def offset(self) -> int | None:
        """The getUpdates offset: confirms everything before the oldest pending update."""
        if self.pending:
            return min(self.pending)
        return self.highest + 1 if self.highest >= 0 else None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then wait for the updates in flight and confirm them."""
        delay = FIRST_RETRY
        while not stop.is_set():
            try:
                updates = await self._fetch()
                delay = FIRST_RETRY
            except RetryAfter as exc:
                await _sleep(stop, _seconds(exc.retry_after))
                continue
            except (InvalidToken, Conflict):
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s), retrying in %.2f s", exc, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            if not updates:
                await asyncio.sleep(self.idle if not self.pending else max(self.idle, 0.1))
            elif not self._dispatch(updates):
                # Only updates already in hand came back: wait for one to finish.
                self.progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.progress.wait(), timeout=0.5)
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self.offset, limit=1, timeout=0)

    async def _fetch(self) -> list[dict]:
        """One getUpdates call, as plain JSON: updates in flight come back until confirmed,
        so only fresh ones are turned into `Update` objects (in `_dispatch`)."""
        # While updates are in hand, poll without waiting: a hung connection is then noticed
        # after READ_MARGIN seconds instead of a whole long poll.
        timeout = 0 if self.pending else self.timeout
        params = {"limit": self.limit, "timeout": timeout, "allowed_updates": ALL_TYPES}
        if self.offset is not None:
            params["offset"] = self.offset
        # Bot.get_updates would parse every returned update each time; `_post` is the same
        # call without the parsing (PTB's do_api_request refuses known methods).
        return await self.app.bot._post(  # type: ignore[no-any-return]
            "getUpdates", params, read_timeout=timeout + READ_MARGIN
        )

    def _dispatch(self, updates: list[dict]) -> bool:
        """Start handling the updates not taken yet (or due again); True if any."""
        loop = asyncio.get_running_loop()
        started = False
        for raw in updates:
            uid = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(uid, int):
                continue
            due = self.retry.get(uid)
            if uid <= self.highest and (due is None or due > loop.time()):
                continue
            self.retry.pop(uid, None)
            self.highest = max(self.highest, uid)
            update = parse_update(raw, self.app.bot)
            if update is None:  # malformed: confirmed with the next call, never handled
                continue
            self.pending.add(uid)
            task = asyncio.create_task(self._handle(update))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started = True
        return started

    async def _handle(self, update: Update) -> None:
        uid = update.update_id
        unsent: set[int] = self.app.bot_data[UNSENT]
        try:
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        finally:
            attempts = self.attempts[uid] = self.attempts.get(uid, 0) + 1
            if uid in unsent and attempts < MAX_ATTEMPTS:
                unsent.discard(uid)
                self.retry[uid] = asyncio.get_running_loop().time() + RETRY_UNSENT_AFTER
            else:
                if uid in unsent:
                    unsent.discard(uid)
                    log.warning("update %s: replies still not delivered, giving up", uid)
                self.pending.discard(uid)
                self.attempts.pop(uid, None)
            self.progress.set()


async def serve(app: Application) -> None:
    """Run the Application with the confirming poller until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    delay = 1.0
    while True:
        try:
            await app.initialize()
            break
        except (InvalidToken, Conflict):
            raise
        except TelegramError as exc:
            log.warning("could not reach the Bot API (%s), retrying in %.0f s", exc, delay)
            await _sleep(stop, delay)
            delay = min(delay * 2, 30.0)
            if stop.is_set():
                return
    try:
        if app.post_init:
            await app.post_init(app)
        await with_retry(partial(app.bot.delete_webhook, drop_pending_updates=False))
        await app.start()
        log.info("polling for updates")
        await Poller(app).run(stop)
    finally:
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def _seconds(value: object) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[union-attr,arg-type]


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
