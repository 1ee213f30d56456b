"""Long polling onto the durable inbox, and the serving loop shared with webhook mode.

A getUpdates batch is written to the inbox in one transaction, then confirmed to Telegram by
the next offset: the poller never fetches an update twice, and never waits for handling. The
inbox worker (bot/inbox.py) handles what is stored, so a bot killed at any moment resumes,
after a restart, from the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.inbox import InboxWorker
from bot.telegram.intake import Intake, worker_for
from bot.telegram.send import retry_seconds, with_retry

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram holds an empty getUpdates
FIRST_RETRY = 0.25  # seconds before polling again after a failed getUpdates (then doubled)
READ_MARGIN = 5  # seconds allowed on top of the long-poll time-out
ALL_TYPES = list(Update.ALL_TYPES)
RESUME_WITHIN = timedelta(days=1)  # Telegram may restart update ids after a week of silence
Source = Callable[[Application, Intake, asyncio.Event], Awaitable[None]]


class Poller:
    """Fetches updates, stores each batch in the inbox, and confirms it by the next offset."""

    def __init__(
        self,
        app: Application,
        intake: Intake,
        limit: int = 100,
        timeout: int = POLL_TIMEOUT,
        idle: float = 0,
    ) -> None:
        self.app, self.intake = app, intake
        self.limit = limit
        self.timeout = timeout
        self.idle = idle  # pause after an empty answer (0: Telegram's long poll is the pause)
        self.highest = -1  # the newest update id stored

    @property
    def offset(self) -> int | None:
        """The getUpdates offset: confirms everything stored."""
        return self.highest + 1 if self.highest >= 0 else None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then confirm what was stored."""
        store = self.intake.services.store
        last = await store.inbox_last(self.intake.worker.now() - RESUME_WITHIN)
        self.highest = max(self.highest, last if last is not None else -1)
        delay = FIRST_RETRY
        while not stop.is_set():
            fetch = asyncio.ensure_future(with_retry(self._fetch))  # the one retry/429 helper
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([fetch, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():  # stopping: what this call returns is fetched next time
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                break
            try:
                updates = fetch.result()
                delay = FIRST_RETRY
            except RetryAfter as exc:
                await _sleep(stop, retry_seconds(exc))
                continue
            except (InvalidToken, Conflict):
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s), retrying in %.2f s", exc, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            if not updates:
                await _sleep(stop, self.idle)
                continue
            try:
                await self.intake.take(updates)
            except Exception:  # not stored: not confirmed, fetched again
                log.exception("could not store %s updates, retrying", len(updates))
                await _sleep(stop, 1.0)
                continue
            ids = [u["update_id"] for u in updates if type(u.get("update_id")) is int]
            self.highest = max([self.highest, *ids])
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self.offset, limit=1, timeout=0)

    async def _fetch(self) -> list[dict]:
        """One getUpdates call, as plain JSON: the inbox stores it as received, and a
        malformed update is set aside by the worker instead of crashing intake."""
        params = {"limit": self.limit, "timeout": self.timeout, "allowed_updates": ALL_TYPES}
        if self.offset is not None:
            params["offset"] = self.offset
        # Bot.get_updates would parse every update (and raise on a malformed one); `_post` is
        # the same call without the parsing (PTB's do_api_request refuses known methods).
        return await self.app.bot._post(  # type: ignore[no-any-return]
            "getUpdates", params, read_timeout=self.timeout + READ_MARGIN
        )


async def poll(app: Application, intake: Intake, stop: asyncio.Event) -> None:
    """The polling source: remove any webhook, then poll."""
    await with_retry(partial(app.bot.delete_webhook, drop_pending_updates=False))
    log.info("polling for updates")
    await Poller(app, intake).run(stop)


async def serve(app: Application, source: Source = poll) -> None:
    """Run the Application, its inbox worker and an update source until SIGINT or SIGTERM."""
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
        # What start-up built (modules, templates, the intent model: ~100,000 objects) lives as
        # long as the process: out of the collector's sight, a full collection no longer walks
        # it (it paused every turn in flight for up to 50 ms).
        app.bot_data.services.renderer.warm()  # compiled now, not on the first voters' turns
        gc.collect()
        gc.freeze()
        await app.start()
        worker, intake = worker_for(app)
        await run_both(worker, source(app, intake, stop), stop)
    finally:
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def run_both(worker: InboxWorker, source: Awaitable[None], stop: asyncio.Event) -> None:
    """Run the update source and the inbox worker; either ending (or failing) stops both."""
    tasks = [asyncio.ensure_future(source), asyncio.ensure_future(worker.run(stop))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        await asyncio.wait(tasks)
    for task in tasks:
        task.result()  # re-raise a failure (e.g. an invalid token)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
