"""The tests' fake Bot API served fast (asyncio, HTTP/1.1 keep-alive) to many voters at once.

One fake for tests and bench: every method's behaviour, and the check of each call against
the Bot API specification, is `tests.fakes.botapi.FakeBotAPI`; form values are decoded with
the spec's types (`_decode`). What this front adds is what a benchmark needs: getUpdates as a
real long poll that does not block the loop (Telegram's offset semantics: an update is
confirmed only by a later offset; until then every getUpdates returns it again), faults that
hang, and the clock on each voter's answer. Updates reach the bot by getUpdates (polling) or
by POSTs to its webhook with the secret header (webhook mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.botapi import TIMEOUT, FakeBotAPI, check_call, webhook_call
from tests.fakes.http import _decode

Fault = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]
CLIENT_READ_TIMEOUT = 5.0  # PTB's default read time-out; a "time-out" fault hangs longer


@dataclass
class Pending:
    """A voter waiting for the answer to one update."""

    pushed: float
    future: asyncio.Future[dict[str, Any]]


@dataclass
class Stats:
    """What the server saw."""

    calls: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)  # chat → keyboard messages received
    sent_texts: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[int] = field(default_factory=Counter)  # update id → times handed out
    bad_secrets: int = 0


class AsyncFakeBotAPI:
    """Telegram's side for many voters at once, served over real HTTP from one event loop."""

    def __init__(self, token: str, fault: Fault | None = None) -> None:
        self.token = token
        self.fault = fault
        self.stats = Stats()
        self.queue: deque[dict[str, Any]] = deque()  # unconfirmed updates, oldest first
        self.waiters: list[asyncio.Future[None]] = []
        self.pending: dict[int, Pending] = {}  # chat id → the voter's open update
        self.api = FakeBotAPI()  # the Bot API's behaviour, shared with the tests
        self.last_keyboard: dict[int, dict[str, Any]] = {}  # chat → newest keyboard message
        self.polled = asyncio.Event()  # set at the first getUpdates or setWebhook
        self.server: asyncio.base_events.Server | None = None
        self.pushed_ids: list[int] = []
        self.sends: list[tuple[float, int, str]] = []  # (monotonic time, chat id, text)

    # -- HTTP ------------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1; returns the base URL for TELEGRAM_API_BASE_URL."""
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload = await self._route(path, headers, body)
                if status == TIMEOUT:
                    return  # hung past the client's time-out: drop the connection
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _route(self, path: str, headers: dict[str, str], body: bytes):
        prefix, _, method = path.rpartition("/")
        if prefix != f"/bot{self.token}":
            self.stats.errors.append(f"bad path {prefix[:12]}…")
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        text = body.decode()
        if "json" in headers.get("content-type", ""):
            form = json.loads(text or "{}")
        else:
            form = dict(parse_qsl(text))
        params = _decode(method, form)
        return await self.handle(method, params)

    # -- the Bot API -----------------------------------------------------------------------

    async def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Serve one call: getUpdates and faults here (they wait), the rest by the tests' fake."""
        self.stats.calls[method] += 1
        if self.fault is not None:
            injected = self.fault(method, params)
            if injected is not None:
                status, _ = injected
                self.stats.faults[f"{method}:{status or 'timeout'}"] += 1
                if status == TIMEOUT:
                    hang = CLIENT_READ_TIMEOUT + 1
                    if method == "getUpdates":
                        hang += float(params.get("timeout") or 0)
                    await asyncio.sleep(hang)
                return injected
        if method == "getUpdates":
            problem = check_call(method, params)
            if problem:
                self.stats.errors.append(problem)
                return 400, {"ok": False, "error_code": 400, "description": problem}
            return 200, {"ok": True, "result": await self._getUpdates(params)}
        status, body = self.api.handle(method, params)
        if status != 200:
            self.stats.errors.append(f"{method}: {body.get('description')}")
        elif method == "setWebhook":
            self.polled.set()
        elif method in ("sendMessage", "editMessageText"):
            self._delivered(int(params["chat_id"]), body["result"])
        return status, body

    async def webhook_answer(self, body: bytes) -> None:
        """What Telegram does with a webhook call's answer: runs the method it names, if any
        (counted like any call; the result goes nowhere)."""
        named = webhook_call(body)
        if named is not None:
            method, params = named
            await self.handle(method, _decode(method, params))

    @property
    def webhook(self) -> dict[str, Any] | None:
        """The setWebhook parameters, while a webhook is set."""
        return self.api.webhook

    @webhook.setter
    def webhook(self, value: dict[str, Any] | None) -> None:
        self.api.webhook = value

    @property
    def messages(self) -> dict[tuple[int, int], dict[str, Any]]:
        """Every message in every chat, as shown now (after edits)."""
        return self.api.messages

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Telegram's long poll: waits up to `timeout` for an update (the shared fake caps the
        wait at 2 s and blocks its thread; here other calls go on meanwhile)."""
        self.polled.set()
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            while self.queue and self.queue[0]["update_id"] < offset:
                self.queue.popleft()  # confirmed by this later offset
            if self.queue or time.monotonic() >= deadline:
                ready = list(itertools.islice(self.queue, limit))
                for update in ready:
                    self.stats.deliveries[update["update_id"]] += 1
                return ready
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))

    def _delivered(self, chat_id: int, message: dict[str, Any]) -> None:
        self.sends.append((time.monotonic(), chat_id, message["text"]))
        self.stats.sent_texts[message["text"]] += 1
        if not (message.get("reply_markup") or {}).get("inline_keyboard"):
            return
        # A keyboard closes the answer to an update (every step reply carries one).
        self.stats.answers[chat_id] += 1
        self.last_keyboard[chat_id] = dict(message)
        pending = self.pending.pop(chat_id, None)
        if pending is not None and not pending.future.done():
            self.stats.latencies.append(time.monotonic() - pending.pushed)
            pending.future.set_result(dict(message))

    # -- the voters' side ------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        """Make an update available to getUpdates."""
        self.queue.append(update)
        self.pushed_ids.append(update["update_id"])
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()

    def expect(self, chat_id: int) -> Pending:
        """Start waiting for the answer of a chat's next update (the clock starts now)."""
        pending = Pending(time.monotonic(), asyncio.get_running_loop().create_future())
        self.pending[chat_id] = pending
        return pending

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        """A voter's private text message (a command when it starts with "/")."""
        return self.api.text_update(user_id, text, first_name=f"Voter{user_id}")

    def press_update(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A voter pressing the button with callback data `data` under `message`."""
        return self.api.press_update(user_id, message, data)
