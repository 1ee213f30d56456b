"""The broadcast delivery worker: paces, sends, retries, resumes after a crash, stops on demand.

The worker sends from the persistent queue of `store/broadcasts.py`: each recipient is marked
`sending` in the database before its HTTP call and `sent` (or blocked, failed, pending for a
retry) after it, so a restart after a crash resumes where it stopped. A recipient left
`sending` by a crash is sent again: that is the one window where a voter may get a message
twice (the request may have reached Telegram just before the crash; the Bot API has no
idempotency key). At most one request per recipient is ever in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import math
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.broadcast import Variables
from bot.clock import Clock
from bot.leases import Lease, hold
from bot.telegram.send import retry_seconds, with_retry
from bot.texts import Renderer
from store import Broadcast, Recipient, Store

log = logging.getLogger(__name__)
CANCEL_CHECK = 0.25  # seconds between looks at a broadcast's state while sending it
STOP_PREFIX = "bc:cancel:"  # callback data of the progress message's stop button


class Pacer:
    """At most `rate` sends per second overall and one per second per chat; pausable (429).

    Times are read from `clock` (monotonic and sleep), so tests can check the schedule."""

    def __init__(self, rate: float, clock: Clock, per_chat: float = 1.0) -> None:
        self.clock = clock
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self.next = 0.0
        self.paused_until = 0.0
        self.last: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop every send for `seconds` (Telegram's retry_after)."""
        self.paused_until = max(self.paused_until, self.clock.monotonic() + seconds)

    async def slot(self, chat_id: int) -> None:
        """Wait for the right to send one message to `chat_id`."""
        while True:
            now = self.clock.monotonic()
            ready = max(self.next, self.paused_until, self.last.get(chat_id, -1e9) + self.per_chat)
            if ready <= now:
                break
            await self.clock.sleep(ready - now)
        # A slot taken a little late does not lower the rate, and bursts stay within one.
        self.next = max(self.next, now - self.interval) + self.interval
        self.last[chat_id] = now
        if len(self.last) > 4096:
            self.last = {c: t for c, t in self.last.items() if now - t < self.per_chat}

    async def wait_out(self, chat_id: int, seconds: float) -> None:
        """A 429: pause every send for `seconds`, then wait for a slot for `chat_id` again."""
        log.warning("429 from Telegram: every send paused for %.0f s", seconds)
        self.pause(seconds)
        await self.slot(chat_id)


class Broadcaster:
    """The background worker: starts due broadcasts and sends them at the configured rate."""

    lease: Lease | None = None  # set when several processes share the database

    def __init__(
        self,
        store: Store,
        bot: Any,
        variables: Variables,
        renderer: Renderer,
        clock: Clock,
        rate: float = 25.0,
        poll: float = 1.0,
        progress_every: float = 3.0,
        batch: int = 200,
        max_attempts: int = 5,
        backoff: float = 1.0,
    ) -> None:
        self.store = store
        self.bot = bot
        self.variables = variables
        self.renderer = renderer
        self.clock = clock
        self.rate = rate
        self.pacer = Pacer(rate, clock)
        self.poll = poll
        # Never more often than Telegram allows in one chat, or the edits would slow sending.
        self.progress_every = max(progress_every, self.pacer.per_chat)
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._inflight = asyncio.Semaphore(max(2, math.ceil(rate)))
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_progress = 0.0
        self._recovered = False
        self._stopping = False
        self._current: int | None = None  # the broadcast being sent, to report a stop

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background until `stop`."""
        self._task = asyncio.create_task(self.run(), name="broadcaster")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the background task, letting requests in flight finish (up to `grace` s)."""
        if self._task is None:
            return
        self._stopping = True
        self.wake()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: work while there is work, otherwise wait for the next poll or a wake."""
        while not self._stopping:
            try:
                async with hold(self.lease) as mine:  # one sender across processes
                    if not mine:
                        self._recovered = False  # on taking over: resend what was in flight
                    busy = mine and await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("broadcast worker error; retrying shortly")
                busy = False
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)

    async def run_until_idle(self) -> None:
        """Work until nothing is due or being sent (tests and the CLI)."""
        while True:
            if await self.step():
                continue
            if await self.store.active_broadcast() is None:
                return
            await self.clock.sleep(min(self.poll, 0.05))

    # -- one round -------------------------------------------------------------------------

    async def step(self) -> bool:
        """Start due broadcasts, then send one batch; False when there was nothing to do."""
        if not self._recovered:
            resent = await self.store.recover_broadcasts()
            if resent:
                log.warning(
                    "%d broadcast recipient(s) were in flight at a crash: resending", resent
                )
            self._recovered = True
        now = self.clock()
        for due in await self.store.due_broadcasts(now):
            count = await self.store.start_broadcast(due.id, now)
            log.info("broadcast %s started: %d recipient(s)", due.id, count)
        b = await self.store.active_broadcast()
        if self._current is not None and (b is None or b.id != self._current):
            await self._settle(self._current)  # cancelled between two batches
        if b is None:
            return False
        self._current = b.id
        if b.report_chat is not None and b.report_message is None:
            await self._progress(b)
        rows = await self.store.next_recipients(b.id, self.batch, self.clock.real().timestamp())
        if not rows:
            counts = await self.store.broadcast_counts(b.id)
            if counts.open:
                return False  # retries waiting for their time
            await self.store.finish_broadcast(b.id, self.clock())
            log.info("broadcast %s done: %s", b.id, counts)
            self._current = None
            await self._report(b)
            return True
        tasks: set[asyncio.Task[None]] = set()
        checked = self.clock.monotonic()
        for row in rows:
            if self._stopping:
                break
            await self.pacer.slot(row.user_id)
            if self.clock.monotonic() - checked >= CANCEL_CHECK:
                checked = self.clock.monotonic()
                current = await self.store.get_broadcast(b.id)
                if current is None or current.state != "sending":
                    break  # stopped meanwhile (the ⏹ button, /diffusions or the CLI)
                if checked - self._last_progress >= self.progress_every:
                    await self._progress(current)
            await self._inflight.acquire()
            task = asyncio.create_task(self._send_one(b, row))
            task.add_done_callback(lambda _: self._inflight.release())
            tasks.add(task)
        await asyncio.gather(*tasks)
        current = await self.store.get_broadcast(b.id)
        if current is not None and current.state == "cancelled":
            await self._settle(b.id)
        return True

    async def _settle(self, broadcast_id: int) -> None:
        """After a stop: replace the progress message with the final report."""
        self._current = None
        current = await self.store.get_broadcast(broadcast_id)
        if current is not None and current.state == "cancelled":
            log.info("broadcast %s stopped", broadcast_id)
            await self._report(current)

    async def _send_one(self, b: Broadcast, row: Recipient) -> None:
        store = self.store
        attempts = row.attempts + 1
        await store.mark_recipient(b.id, row.user_id, "sending", attempts=attempts)
        text = self.variables.fill(b.text, row.first_name, self.clock())
        send = partial(
            self.bot.send_message,
            row.user_id,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        try:
            # A 429 pauses every send and this one is tried again after the pause; network
            # errors are retried later, from the queue (`backoff`, `max_attempts`).
            await with_retry(
                send, network_tries=1, wait_out=partial(self.pacer.wait_out, row.user_id)
            )
        except RetryAfter as exc:  # too long a wait, or too many: every send paused, retried later
            self.pacer.pause(retry_seconds(exc))
            await store.mark_recipient(b.id, row.user_id, "pending", attempts=row.attempts)
        except Forbidden:
            await store.mark_recipient(b.id, row.user_id, "blocked", error="forbidden")
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await store.mark_recipient(b.id, row.user_id, "blocked", error="chat not found")
            else:
                await store.mark_recipient(b.id, row.user_id, "failed", error=str(exc)[:200])
        except NetworkError as exc:  # 5xx, timeouts, connection errors
            if attempts >= self.max_attempts:
                await store.mark_recipient(b.id, row.user_id, "failed", error=str(exc)[:200])
            else:
                wait = self.backoff * 2 ** (attempts - 1)
                await store.mark_recipient(
                    b.id, row.user_id, "pending", not_before=self.clock.real().timestamp() + wait
                )
        except TelegramError as exc:
            await store.mark_recipient(b.id, row.user_id, "failed", error=str(exc)[:200])
        except Exception as exc:  # a bug or an unexpected answer: retried like a network error
            log.exception("broadcast %s: unexpected error for a recipient", b.id)
            state = "failed" if attempts >= self.max_attempts else "pending"
            wait = self.backoff * 2 ** (attempts - 1)
            await store.mark_recipient(
                b.id,
                row.user_id,
                state,
                not_before=self.clock.real().timestamp() + wait,
                error=type(exc).__name__,
            )
        else:
            await store.mark_recipient(b.id, row.user_id, "sent")

    # -- what the broadcaster sees -----------------------------------------------------------

    def _context(self, b: Broadcast, counts: Any, final: bool) -> dict[str, Any]:
        started = b.started_at or b.send_at
        finished = b.finished_at or self.clock()
        return {
            "id": b.id,
            "b": b,
            "counts": counts,
            "final": final,
            "stopped": b.state == "cancelled",
            "seconds": max(0, int((finished - started).total_seconds())),
        }

    def _stop_button(self, b: Broadcast) -> InlineKeyboardMarkup:
        label = self.renderer.label("broadcast/_buttons.html", "halt", {"value": b.id})
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(html.unescape(label), callback_data=f"{STOP_PREFIX}{b.id}")]]
        )

    async def _progress(self, b: Broadcast) -> None:
        self._last_progress = self.clock.monotonic()
        if b.report_chat is None:
            return
        counts = await self.store.broadcast_counts(b.id)
        text = self.renderer.text("broadcast/progress.html", self._context(b, counts, False))
        await self._show(b, text, self._stop_button(b))

    async def _report(self, b: Broadcast) -> None:
        current = await self.store.get_broadcast(b.id)
        if current is None or current.report_chat is None:
            return
        counts = await self.store.broadcast_counts(b.id)
        text = self.renderer.text("broadcast/report.html", self._context(current, counts, True))
        await self._show(current, text, None)

    async def _show(self, b: Broadcast, text: str, markup: InlineKeyboardMarkup | None) -> None:
        assert b.report_chat is not None
        chat = b.report_chat
        await self.pacer.slot(chat)
        wait_out = partial(self.pacer.wait_out, chat)
        try:
            if b.report_message is None:
                call = partial(self.bot.send_message, chat, text, reply_markup=markup)
                message = await with_retry(call, network_tries=1, wait_out=wait_out)
                await self.store.set_report_message(b.id, message.message_id)
            else:
                edit = partial(
                    self.bot.edit_message_text,
                    text,
                    chat_id=chat,
                    message_id=b.report_message,
                    reply_markup=markup,
                )
                await with_retry(edit, network_tries=1, wait_out=wait_out)
        except RetryAfter as exc:
            self.pacer.pause(retry_seconds(exc))
        except TelegramError as exc:
            log.info("could not show broadcast %s progress: %s", b.id, exc)
