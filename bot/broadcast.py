"""Broadcasts: text checks, per-voter variables, the calendar plan and the delivery worker.

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
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from html.parser import HTMLParser
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.election import Category, Election
from bot.leases import Lease, hold
from bot.texts import Renderer
from store import Audience, Broadcast, Recipient, Store
from store.progress import ITEMS

log = logging.getLogger(__name__)

MAX_LENGTH = 4096  # characters of a Telegram message once entities are parsed
VARIABLES = ("prenom", "jours_restants", "date_cloture")
_VARIABLE = re.compile(r"\{(\w+)\}")
# Worst-case values for the length check: Telegram first names are at most 64 characters.
_LONGEST = {"prenom": "W" * 64, "jours_restants": "999", "date_cloture": "W" * 40}
# Telegram's HTML subset: tag → allowed attributes.
_TAGS: dict[str, tuple[str, ...]] = {
    "b": (),
    "strong": (),
    "i": (),
    "em": (),
    "u": (),
    "ins": (),
    "s": (),
    "strike": (),
    "del": (),
    "a": ("href",),
    "code": ("class",),
    "pre": (),
    "span": ("class",),
    "tg-spoiler": (),
    "tg-emoji": ("emoji-id",),
    "blockquote": ("expandable",),
}
_ENTITIES = {"lt", "gt", "amp", "quot"}


@dataclass(frozen=True)
class Problem:
    """Why a broadcast text cannot be sent: a reason code (see broadcast/invalid.html)."""

    reason: str
    detail: str = ""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.plain: list[str] = []
        self.problem: Problem | None = None

    def _fail(self, reason: str, detail: str = "") -> None:
        if self.problem is None:
            self.problem = Problem(reason, detail)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self._fail("unknown_tag", tag)
            return
        names = {name for name, _ in attrs}
        if not names <= set(_TAGS[tag]):
            self._fail("bad_attribute", tag)
        if tag == "a" and not dict(attrs).get("href"):
            self._fail("bad_attribute", tag)
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self._fail("bad_attribute", tag)
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail("unknown_tag", tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail("unbalanced", tag)
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if any(c in data for c in "<>&"):
            self._fail("bare_symbol", next(c for c in data if c in "<>&"))
        self.plain.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _ENTITIES:
            self._fail("bad_entity", name)
        self.plain.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.plain.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self._fail("unknown_tag", "!--")

    def handle_decl(self, decl: str) -> None:
        self._fail("unknown_tag", "!")

    def handle_pi(self, data: str) -> None:
        self._fail("unknown_tag", "?")

    def unknown_decl(self, data: str) -> None:
        self._fail("unknown_tag", "!")


def check_html(text: str) -> tuple[Problem | None, int]:
    """Check Telegram HTML: known tags and attributes, balanced; returns (problem, length)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.problem is None and checker.stack:
        checker._fail("unclosed", checker.stack[-1])
    return checker.problem, len("".join(checker.plain))


def check_text(text: str) -> Problem | None:
    """Whether a broadcast text can be sent to every voter (variables filled at their longest)."""
    if not text.strip():
        return Problem("empty")
    for name in _VARIABLE.findall(text):
        if name not in VARIABLES:
            return Problem("unknown_variable", name)
    problem, length = check_html(_VARIABLE.sub(lambda m: _LONGEST[m.group(1)], text))
    if problem is None and length > MAX_LENGTH:
        return Problem("too_long", str(length))
    return problem


class Variables:
    """Fills `{prenom}`, `{jours_restants}`, `{date_cloture}` for one voter."""

    def __init__(self, renderer: Renderer, election: Election) -> None:
        self.renderer = renderer
        self.election = election

    def fill(self, text: str, first_name: str, now: datetime) -> str:
        """The text as this voter sees it."""
        closing_day = self.election.calendar.closing_day
        days = max(0, (closing_day - now.astimezone(self.election.tz).date()).days)
        values = {
            "prenom": html.escape(first_name),
            "jours_restants": str(days),
            "date_cloture": self.renderer.text("broadcast/date_cloture.html"),
        }
        return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# -- the calendar plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
    """One calendar reminder: its key (= template reminders/plan_<key>.html), time, audience."""

    key: str
    send_at: datetime
    audience: Audience


def default_plan(election: Election) -> list[PlannedReminder]:
    """The reminders derived from the election calendar, each to the voters it concerns."""
    cal = election.calendar
    tz = election.tz

    def at(day: date | datetime, hour: int, minute: int = 0) -> datetime:
        if isinstance(day, datetime):
            day = day.astimezone(tz).date() if day.tzinfo else day.date()
        return datetime.combine(day, dtime(hour, minute), tzinfo=tz)

    opens = cal.at(cal.vote_opens).astimezone(tz)
    closes = cal.closes_at().astimezone(tz)
    not_voted = Audience("progress", "voted")
    plan = []
    # A date not published yet has no reminder until an operator sets it (bot.election).
    if cal.portal_opens is not None:
        plan.append(
            PlannedReminder(
                "portal_opens", at(cal.portal_opens, 10), Audience("progress", "account")
            )
        )
    if cal.notice_deadline is not None:
        notice = cal.at(cal.notice_deadline).astimezone(tz)
        week_before = at(notice - timedelta(days=7), 10)
        plan.append(PlannedReminder("notice_week", week_before, Audience("progress", "vote_code")))
    plan += [
        PlannedReminder("eve", at(opens - timedelta(days=1), 18), not_voted),
        # The opening reminder never goes before the configured opening time.
        PlannedReminder("opening", max(at(opens, 9), opens), not_voted),
        PlannedReminder("last_morning", at(cal.closing_day, 8, 30), not_voted),
    ]
    if cal.vote_closes is not None:
        plan.append(PlannedReminder("last_afternoon", at(cal.closing_day, 14), not_voted))
    # The early-afternoon reminder must come before closing time, whatever it is.
    last = closes - timedelta(hours=3)
    return [
        r
        if r.key != "last_afternoon"
        else PlannedReminder(r.key, min(r.send_at, last), r.audience)
        for r in plan
    ]


async def ensure_plan(store: Store, renderer: Renderer, election: Election, now: datetime) -> int:
    """Store the default plan (not enabled) for keys not stored yet; returns how many added."""
    added = 0
    for item in default_plan(election):
        text = renderer.text(f"reminders/plan_{item.key}.html")
        if await store.plan_reminder(item.key, text, item.audience, item.send_at, now):
            added += 1
    return added


# -- delivery ------------------------------------------------------------------------------------


class Pacer:
    """At most `rate` sends per second overall and one per second per chat; pausable (429)."""

    def __init__(self, rate: float, per_chat: float = 1.0) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self.next = 0.0
        self.paused_until = 0.0
        self.last: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop every send for `seconds` (Telegram's retry_after)."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def slot(self, chat_id: int) -> None:
        """Wait for the right to send one message to `chat_id`."""
        while True:
            now = time.monotonic()
            ready = max(self.next, self.paused_until, self.last.get(chat_id, -1e9) + self.per_chat)
            if ready <= now:
                break
            await asyncio.sleep(ready - now)
        # A slot taken a little late does not lower the rate, and bursts stay within one.
        self.next = max(self.next, now - self.interval) + self.interval
        self.last[chat_id] = now
        if len(self.last) > 4096:
            self.last = {c: t for c, t in self.last.items() if now - t < self.per_chat}


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Broadcaster:
    """The background worker: starts due broadcasts and sends them at the configured rate."""

    lease: Lease | None = None  # set when several processes share the database

    def __init__(
        self,
        store: Store,
        bot: Any,
        variables: Variables,
        renderer: Renderer,
        clock: Callable[[], datetime],
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
        self.pacer = Pacer(rate)
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
            await asyncio.sleep(min(self.poll, 0.05))

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
        if b is None:
            return False
        if b.report_chat is not None and b.report_message is None:
            await self._progress(b, force=True)
        rows = await self.store.next_recipients(b.id, self.batch, time.time())
        if not rows:
            counts = await self.store.broadcast_counts(b.id)
            if counts.open:
                return False  # retries waiting for their time
            await self.store.finish_broadcast(b.id, self.clock())
            log.info("broadcast %s done: %s", b.id, counts)
            await self._report(b)
            return True
        tasks: set[asyncio.Task[None]] = set()
        for row in rows:
            if self._stopping:
                break
            await self.pacer.slot(row.user_id)
            await self._inflight.acquire()
            task = asyncio.create_task(self._send_one(b, row))
            task.add_done_callback(lambda _: self._inflight.release())
            tasks.add(task)
            if time.monotonic() - self._last_progress >= self.progress_every:
                current = await self.store.get_broadcast(b.id)
                if current is None or current.state != "sending":
                    break  # cancelled meanwhile
                await self._progress(current)
        await asyncio.gather(*tasks)
        return True

    async def _send_one(self, b: Broadcast, row: Recipient) -> None:
        store = self.store
        attempts = row.attempts + 1
        await store.mark_recipient(b.id, row.user_id, "sending", attempts=attempts)
        text = self.variables.fill(b.text, row.first_name, self.clock())
        try:
            await self.bot.send_message(
                row.user_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            seconds = _retry_seconds(exc)
            log.warning("429 from Telegram: every send paused for %.0f s", seconds)
            self.pacer.pause(seconds)
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
                    b.id, row.user_id, "pending", not_before=time.time() + wait
                )
        except TelegramError as exc:
            await store.mark_recipient(b.id, row.user_id, "failed", error=str(exc)[:200])
        except Exception as exc:  # a bug or an unexpected answer: retried like a network error
            log.exception("broadcast %s: unexpected error for a recipient", b.id)
            state = "failed" if attempts >= self.max_attempts else "pending"
            wait = self.backoff * 2 ** (attempts - 1)
            await store.mark_recipient(
                b.id, row.user_id, state, not_before=time.time() + wait, error=type(exc).__name__
            )
        else:
            await store.mark_recipient(b.id, row.user_id, "sent")

    # -- what the broadcaster sees -----------------------------------------------------------

    def _context(self, b: Broadcast, counts: Any, final: bool) -> dict[str, Any]:
        started = b.started_at or b.send_at
        finished = b.finished_at or self.clock()
        return {
            "id": b.id,
            "counts": counts,
            "final": final,
            "seconds": max(0, int((finished - started).total_seconds())),
        }

    async def _progress(self, b: Broadcast, force: bool = False) -> None:
        self._last_progress = time.monotonic()
        if b.report_chat is None:
            return
        counts = await self.store.broadcast_counts(b.id)
        text = self.renderer.text("broadcast/progress.html", self._context(b, counts, False))
        await self._show(b, text)

    async def _report(self, b: Broadcast) -> None:
        current = await self.store.get_broadcast(b.id)
        if current is None or current.report_chat is None:
            return
        counts = await self.store.broadcast_counts(b.id)
        text = self.renderer.text("broadcast/report.html", self._context(current, counts, True))
        await self._show(current, text)

    async def _show(self, b: Broadcast, text: str) -> None:
        assert b.report_chat is not None
        await self.pacer.slot(b.report_chat)
        try:
            if b.report_message is None:
                message = await self.bot.send_message(b.report_chat, text)
                await self.store.set_report_message(b.id, message.message_id)
            else:
                await self.bot.edit_message_text(
                    text, chat_id=b.report_chat, message_id=b.report_message
                )
        except RetryAfter as exc:
            self.pacer.pause(_retry_seconds(exc))
        except TelegramError as exc:
            log.info("could not show broadcast %s progress: %s", b.id, exc)


# -- composer helpers ----------------------------------------------------------------------------

_WHEN_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%Y-%m-%d %H:%M")


def parse_when(text: str, election: Election) -> datetime | None:
    """A date-time typed by a broadcaster (Paris time unless an offset is given), or None."""
    value = " ".join(text.strip().split())
    for fmt in _WHEN_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=election.tz)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=election.tz)


def audience_choices(election: Election, kind: str) -> tuple[str, ...]:
    """The values a broadcaster can pick for an audience kind."""
    if kind == "category":
        return tuple(c.value for c in Category)
    if kind == "departement":
        return election.departements
    if kind == "progress":
        return tuple(i for i in ITEMS if i != "identifier")
    return ()


def parse_audience(text: str, election: Election) -> Audience:
    """An audience from `all|category=X|departement=NN|progress=STEP`; ValueError if unknown."""
    audience = Audience.parse(text)
    if audience.kind in ("category", "departement") and audience.value not in audience_choices(
        election, audience.kind
    ):
        choices = ", ".join(audience_choices(election, audience.kind))
        raise ValueError(f"bad {audience.kind} {audience.value!r} (choices: {choices})")
    return audience
