"""Bot API faults (5xx, time-outs, 429): retried sends, updates confirmed only when answered.

The fast version of bench/fault_test.py: the real Application, the poller storing updates in
the inbox and the inbox worker, on the in-process fake Bot API, which fails a random 10 % of
calls.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot import inbox
from bot.telegram import send
from tests.conftest import Chat, Served
from tests.fakes.botapi import FakeBotAPI, button_data, fault_answer

WALK = ["adresse académique", "Non", "Connaître", "obtenu", "noté"]


class Faults:
    """Fails a share of the calls with 500, 502, a time-out or 429 retry_after=1."""

    def __init__(self, rate: float, seed: int = 7, methods: set[str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.methods = methods
        self.failed: set[int] = set()  # id() of the params of calls that were not served
        self.kinds: dict[str, int] = {}

    def __call__(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(["500", "502", "timeout", "429"])
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.failed.add(id(params))
        return fault_answer(kind)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff and retry_after waits, recorded instead of slept."""
    recorded: list[float] = []

    async def no_wait(seconds: float) -> None:
        recorded.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(send, "_sleep", no_wait)
    monkeypatch.setattr(inbox, "RETRY_UNSENT_AFTER", 0.0)
    return recorded


async def test_with_retry_retries_5xx_and_timeouts_and_honours_retry_after(
    waits: list[float],
) -> None:
    errors = [NetworkError("Bad Gateway"), TimedOut(), RetryAfter(3)]

    async def flaky() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    assert await send.with_retry(flaky) == "ok"
    assert len(waits) == 3 and waits[2] == 3  # the 429 wait is exactly retry_after


async def test_with_retry_gives_up_after_bounded_attempts_and_never_retries_400(
    waits: list[float],
) -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise NetworkError("Internal Server Error")

    with pytest.raises(NetworkError):
        await send.with_retry(down)
    assert calls == send.ATTEMPTS and waits == sorted(waits)  # growing backoff

    async def bad() -> None:
        raise BadRequest("Bad Request: message text is empty")

    waits.clear()
    with pytest.raises(BadRequest):
        await send.with_retry(bad)
    assert waits == []


async def test_the_broadcast_worker_s_use_of_with_retry_waits_429s_out_its_own_way(
    waits: list[float],
) -> None:
    """The worker waits a 429 out through its pacer and retries network errors later itself."""
    paused: list[float] = []

    async def pause(seconds: float) -> None:
        paused.append(seconds)

    errors = [RetryAfter(2), RetryAfter(1)]

    async def flooded() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    assert await send.with_retry(flooded, network_tries=1, wait_out=pause) == "ok"
    assert paused == [2, 1] and waits == []

    async def down() -> None:
        raise NetworkError("Bad Gateway")

    with pytest.raises(NetworkError):
        await send.with_retry(down, network_tries=1, wait_out=pause)
    assert waits == []  # raised at once: the worker retries from its queue
    with pytest.raises(RetryAfter):  # longer than a worker may hold a send: raised
        await send.with_retry(lambda: _raise(RetryAfter(600)), wait_out=pause)
    assert paused == [2, 1]


async def _raise(exc: Exception) -> None:
    raise exc


def _delivered(api: FakeBotAPI, faults: Faults, chat_id: int) -> list[dict[str, Any]]:
    """Messages that really reached the voter (sent or edited), oldest first."""
    return [c.params for c in api.sent(chat_id) if id(c.params) not in faults.failed]


async def test_voters_finish_the_walk_under_10_percent_faults_with_nothing_confusing(
    chat: Chat, api: FakeBotAPI, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    faults = Faults(0.10)
    api.fault = faults
    voters = [Chat(chat.app, api, user_id=2000 + i) for i in range(12)]
    with caplog.at_level(logging.WARNING):
        async with Served(chat.app) as served:
            pushed = [api.push(api.text_update(v.user_id, "/menu")) for v in voters]
            await served.settle(pushed[-1]["update_id"])
            for label in WALK:
                for voter in voters:
                    message = voter.last
                    update = api.press_update(voter.user_id, message, button_data(message, label))
                    pushed.append(api.push(update))
                await served.settle(pushed[-1]["update_id"])
    assert sum(faults.kinds.values()) >= 5, faults.kinds
    error_text = chat.app.bot_data.services.renderer.text("common/error.html")
    for voter in voters:
        assert "Étape 1 terminée" in voter.last["text"]
        texts = [p["text"] for p in _delivered(api, faults, voter.user_id)]
        assert error_text not in texts
        # One answer per update: a welcome message, then one edit per press.
        assert len(texts) == 1 + len(WALK), texts
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _outage(api: FakeBotAPI) -> dict[str, bool]:
    """Telegram answers every sendMessage with 502 until the returned switch is turned off."""
    failing = {"on": True}

    def fault(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if method == "sendMessage" and failing["on"]:
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    api.fault = fault
    return failing


async def _until_tries(api: FakeBotAPI, tries: int) -> None:
    """Wait (5 s at most) until the bot has tried sendMessage `tries` times."""
    for _ in range(500):
        await asyncio.sleep(0.01)
        if len([c for c in api.calls if c.method == "sendMessage"]) >= tries:
            return


async def test_an_update_is_confirmed_once_stored_and_answered_when_telegram_is_back(
    chat: Chat, api: FakeBotAPI, waits: list[float]
) -> None:
    failing = _outage(api)
    store = chat.app.bot_data.services.store
    async with Served(chat.app) as served:
        api.push(api.text_update(chat.user_id, "/start"))
        last = api.push(api.text_update(3001, "/start"))  # another voter, in the same outage
        await _until_tries(api, 20)
        assert api.updates == []  # confirmed to Telegram as soon as stored…
        assert (await store.inbox_counts()).queued == 2  # …and kept until answered
        failing["on"] = False  # Telegram is back
        await served.settle(last["update_id"])
    served_calls = [c for c in api.calls if c.method == "sendMessage"][-2:]
    assert {int(c.params["chat_id"]) for c in served_calls} == {chat.user_id, 3001}


async def test_support_sees_a_turn_delivered_after_an_outage_once(
    chat: Chat, api: FakeBotAPI, waits: list[float]
) -> None:
    failing = _outage(api)
    store = chat.app.bot_data.services.store
    async with Served(chat.app) as served:
        update = api.push(api.text_update(chat.user_id, "je n'ai pas reçu ma notice"))
        await _until_tries(api, 12)  # several tries failed: it went round the inbox again
        failing["on"] = False  # Telegram is back
        await served.settle(update["update_id"])
    lines = await store.transcript(chat.user_id)
    assert [x.text for x in lines if x.direction == "in"] == ["je n'ai pas reçu ma notice"]
    sent = [c for c in api.delivered if int(c.params["chat_id"]) == chat.user_id]
    assert len([x for x in lines if x.direction == "out"]) == len(sent) > 0
