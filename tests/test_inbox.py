"""The durable inbox through the real intake path: polling and webhook store before they
confirm, a restart resumes, a malformed update is set aside, a flooding voter holds nobody."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.election import Election
from bot.inbox import FLOOD_CAP
from bot.services import Services
from bot.telegram.app import build_application
from bot.telegram.intake import worker_for
from bot.telegram.polling import Poller, run_both
from bot.telegram.webhook import SECRET_HEADER, webhook_source
from tests.conftest import Chat, Served, make_settings, votebot_cli
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.inprocess import FakeRequest

OTHER = 3001


def _answers(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.sent(chat_id)]


async def test_stored_updates_survive_a_stop_and_a_new_worker_answers_them_in_order(
    chat: Chat, api: FakeBotAPI
) -> None:
    await chat.app.start()
    _, intake = worker_for(chat.app)
    poller = Poller(chat.app, intake, timeout=0, idle=0.01)
    stop = asyncio.Event()
    polling = asyncio.create_task(poller.run(stop))
    texts = ["/start", "/aide", "/menu"]
    pushed = [api.push(api.text_update(chat.user_id, t)) for t in texts]
    pushed.append(api.push(api.text_update(OTHER, "/start")))
    for _ in range(300):
        await asyncio.sleep(0.01)
        if poller.highest >= pushed[-1]["update_id"]:
            break
    stop.set()  # "killed" before anything was handled: only the inbox holds the updates
    await polling
    await chat.app.stop()
    assert api.updates == [] and api.sent(chat.user_id) == []
    store = chat.app.bot_data.services.store
    # A lease held by a process that no longer runs is given back at start-up.
    dead = f"{socket.gethostname()}:999999999:dead"
    now = chat.app.bot_data.services.clock.real()
    await store.inbox_claim(dead, 10, now, now.replace(year=now.year + 1))
    async with Served(chat.app) as served:
        await served.settle(pushed[-1]["update_id"])
    answers = _answers(api, chat.user_id)
    assert len(answers) == 4  # /start, /aide (help + step), /menu
    assert "élections professionnelles" in answers[0] and "<b>Aide</b>" in answers[1]
    assert len(_answers(api, OTHER)) == 1
    assert [c.params.get("offset") for c in api.calls if c.method == "getUpdates"].count(
        pushed[0]["update_id"]
    ) <= 1  # never fetched again after it was stored


async def test_a_malformed_update_is_set_aside_and_blocks_nobody(
    chat: Chat, api: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad: dict[str, Any] = api.text_update(chat.user_id, "/start")
    del bad["message"]["entities"][0]["length"]  # Update.de_json raises on this
    worse = api.text_update(OTHER, "bonjour")
    worse["message"]["date"] = "hier"
    with caplog.at_level(logging.WARNING):
        async with Served(chat.app) as served:
            for update in (bad, worse):
                api.push(update)
            after = [api.push(api.text_update(u, "/start")) for u in (chat.user_id, OTHER)]
            await served.settle(after[-1]["update_id"])
    error_text = chat.app.bot_data.services.renderer.text("common/error.html")
    for voter in (chat.user_id, OTHER):
        answers = _answers(api, voter)
        assert answers[0] == error_text  # told once that the message could not be read
        assert "élections professionnelles" in answers[-1]  # the next one is answered
    counts = await chat.app.bot_data.services.store.inbox_counts()
    assert (counts.queued, counts.aside) == (0, 2)
    assert any("set aside" in r.getMessage() for r in caplog.records)
    settings = chat.app.bot_data.services.settings
    env = {"VOTEBOT_DB": str(settings.db_path), "VOTEBOT_NOW": "2022-11-02T10:00:00"}
    out = votebot_cli(tmp_path, {**_base_env(), **env}, "stats").stdout
    assert "2 set aside" in out


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("VOTEBOT_", "TELEGRAM_"))}


async def test_a_flooding_voter_is_capped_told_once_and_holds_nobody_else(
    chat: Chat, api: FakeBotAPI
) -> None:
    async with Served(chat.app) as served:
        flood = [api.text_update(chat.user_id, f"message {i}") for i in range(200)]
        for update in flood:
            api.push(update)
        help_request = api.push(api.text_update(OTHER, "/aide"))
        await served.settle(help_request["update_id"])
    texts = _answers(api, chat.user_id)
    wait = chat.app.bot_data.services.renderer.text("common/flood.html")
    assert texts.count(wait) == 1
    answered = [t for t in texts if t != wait]
    assert 0 < len(answered) <= 2 * (FLOOD_CAP + 1)  # each: "not understood" + the step
    assert "<b>Aide</b>" in _answers(api, OTHER)[0]
    calls = [c for c in api.calls if c.method == "sendMessage"]
    other_at = next(i for i, c in enumerate(calls) if int(c.params["chat_id"]) == OTHER)
    flooder_last = max(i for i, c in enumerate(calls) if int(c.params["chat_id"]) != OTHER)
    assert other_at < flooder_last  # not queued behind the flood
    counts = await chat.app.bot_data.services.store.inbox_counts()
    assert counts.dropped == 200 - FLOOD_CAP and counts.queued == 0


async def test_a_webhook_call_is_answered_200_only_once_its_update_is_stored(
    chat: Chat, api: FakeBotAPI
) -> None:
    secret = "webhook-secret_0123456789abcdef"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    await chat.app.start()
    worker, intake = worker_for(chat.app)
    stop = asyncio.Event()
    source = asyncio.create_task(
        webhook_source("127.0.0.1", port, "hook", url, secret)(chat.app, intake, stop)
    )
    store = chat.app.bot_data.services.store
    try:
        update = api.text_update(chat.user_id, "/start")
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(100):
                try:
                    status = (await client.post(url, json={})).status_code
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            assert status == 403  # no secret
            headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
            bad = await client.post(url, content=b"{not json", headers=headers)
            assert bad.status_code == 400
            answer = await client.post(url, content=json.dumps(update), headers=headers)
            assert answer.status_code == 200
            again = await client.post(url, content=json.dumps(update), headers=headers)
            assert again.status_code == 200  # Telegram's retry: stored once
        # The worker is not running (as if the bot was killed right after answering 200).
        assert (await store.inbox_counts()).queued == 1 and api.sent(chat.user_id) == []
        assert api.webhook is not None and api.webhook["secret_token"] == secret
    finally:
        stop.set()
        await source
    stop = asyncio.Event()
    task = asyncio.create_task(run_both(worker, stop.wait(), stop))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if api.sent(chat.user_id):
            break
    stop.set()
    await task
    await chat.app.stop()
    assert len(api.sent(chat.user_id)) == 1


async def test_a_pasted_secret_never_reaches_the_database_file(chat: Chat, api: FakeBotAPI):
    numen = "08E1234567ABC"
    async with Served(chat.app) as served:
        api.push(api.text_update(chat.user_id, "/start"))
        last = api.push(api.text_update(chat.user_id, f"mon numen est {numen}"))
        await served.settle(last["update_id"])
    assert any(c.method == "deleteMessage" for c in api.calls)
    path = Path(chat.app.bot_data.services.settings.db_path)
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert numen.encode() not in raw  # not even in the write-ahead log
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM inbox WHERE payload IS NOT NULL").fetchone() == (
            0,
        )


async def test_an_update_whose_handling_keeps_failing_is_retried_then_set_aside(
    chat: Chat, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = chat.app.bot_data.services.engine
    handle = engine.handle
    tries: list[int] = []

    async def broken(msg, state=None):
        if msg.value == "boum":
            tries.append(msg.update_id)
            raise RuntimeError("a bug")
        return await handle(msg, state)

    monkeypatch.setattr(engine, "handle", broken)
    async with Served(chat.app) as served:
        api.push(api.text_update(chat.user_id, "boum"))
        after = api.push(api.text_update(chat.user_id, "/start"))
        other = api.push(api.text_update(OTHER, "/start"))
        await served.settle(max(after["update_id"], other["update_id"]))
    assert len(tries) == 3  # MAX_FAILURES tries, then set aside
    error_text = chat.app.bot_data.services.renderer.text("common/error.html")
    answers = _answers(api, chat.user_id)
    assert answers.count(error_text) == 1 and "élections professionnelles" in answers[-1]
    assert (await chat.app.bot_data.services.store.inbox_counts()).aside == 1


async def test_the_whole_intake_runs_on_postgresql(
    pg_url: str, tmp_path: Path, election: Election, api: FakeBotAPI
) -> None:
    settings = make_settings(tmp_path, VOTEBOT_DB=pg_url)
    services = await Services.open(settings, election)
    app = build_application(settings, election, services, request=FakeRequest(api))
    await app.initialize()
    voter = 7001
    try:
        async with Served(app) as served:
            bad: dict[str, Any] = api.text_update(voter, "/start")
            del bad["message"]["entities"][0]["length"]  # malformed: set aside, counted
            api.push(bad)
            for who in (voter, OTHER):
                for text in ("/start", "/aide", "/menu"):
                    last = api.push(api.text_update(who, text))
            await served.settle(last["update_id"])
        counts = await services.store.inbox_counts()
    finally:
        await app.shutdown()
        await services.close()
    error_text = services.renderer.text("common/error.html")
    for who in (voter, OTHER):
        answers = [a for a in _answers(api, who) if a != error_text]
        assert len(answers) == 4, answers  # in order: welcome, help + step, menu
        assert "élections professionnelles" in answers[0] and "<b>Aide</b>" in answers[1]
        assert "<b>Menu</b>" in answers[-1]
    assert (counts.queued, counts.aside) == (0, 1)


async def test_without_the_periodic_look_every_update_is_still_handled(
    chat: Chat, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished update claims the next only when one may wait (its voter's next, a voter
    the full worker left, a backlog from before a restart): none is left for the look."""
    monkeypatch.setattr("bot.inbox.TICK", 60.0)
    store = chat.app.bot_data.services.store
    early = [api.push(api.text_update(chat.user_id, t)) for t in ("/start", "/aide")]
    _, intake = worker_for(chat.app)
    await intake.take(api.updates)  # stored by a process that stopped before handling them
    api.updates.clear()
    async with Served(chat.app) as served:
        served.worker.concurrency = 2
        await served.settle(early[-1]["update_id"], timeout=5)
        burst = [api.push(api.text_update(chat.user_id, t)) for t in ("/menu", "/aide", "/menu")]
        burst += [api.push(api.text_update(OTHER + n, "/start")) for n in range(5)]
        await served.settle(max(u["update_id"] for u in burst), timeout=5)
    assert len(_answers(api, chat.user_id)) == 1 + 2 + 1 + 2 + 1  # /aide: help and step
    assert all(len(_answers(api, OTHER + n)) == 1 for n in range(5))
    assert (await store.inbox_counts()).queued == 0


async def test_a_press_is_stored_without_the_text_it_was_pressed_on_and_still_edits_it(
    chat: Chat, api: FakeBotAPI
) -> None:
    await chat.say("/start")  # handled directly: the welcome and its buttons
    shown = chat.last
    await chat.app.start()
    _, intake = worker_for(chat.app)
    press = api.press_update(
        chat.user_id, shown, shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    await intake.take([press])  # stored; no worker runs yet
    path = chat.app.bot_data.services.settings.db_path
    with sqlite3.connect(path) as db:
        (payload,) = db.execute("SELECT payload FROM inbox").fetchone()
    pressed = json.loads(payload)["callback_query"]["message"]
    assert pressed["message_id"] == shown["message_id"] and pressed["chat"]["id"] == chat.user_id
    assert "text" not in pressed and "reply_markup" not in pressed and "entities" not in pressed
    await chat.app.stop()
    before = len(api.sent(chat.user_id))
    async with Served(chat.app) as served:
        await served.settle(press["update_id"])
    edits = [c for c in api.sent(chat.user_id)[before:] if c.method == "editMessageText"]
    assert [int(c.params["message_id"]) for c in edits] == [shown["message_id"]]


async def test_a_turn_uses_the_state_read_with_its_lease_and_sees_the_step_before(
    chat: Chat, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = chat.app.bot_data.services.store
    loads: list[int] = []
    load_turn = store.load_turn

    async def counted(user_id: int, update_id: int | None):  # type: ignore[no-untyped-def]
        loads.append(user_id)
        return await load_turn(user_id, update_id)

    monkeypatch.setattr(store, "load_turn", counted)
    async with Served(chat.app) as served:
        first = api.push(api.text_update(chat.user_id, "/start"))
        await served.settle(first["update_id"])
        welcome = chat.last
        data = welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        press = api.push(api.press_update(chat.user_id, welcome, data))
        await served.settle(press["update_id"])
        again = api.push(api.press_update(chat.user_id, welcome, data))  # the same, now stale
        await served.settle(again["update_id"])
    assert loads == []  # each state came in the transaction that leased its update
    texts = _answers(api, chat.user_id)
    assert len(texts) == 4 and texts[1] != texts[0]  # the press moved on from the welcome
    # The same button again is seen as expired: its turn read the step the press before made.
    assert texts[2].startswith("Ce bouton a expiré") and texts[3] == texts[1]


async def test_the_worker_holds_many_updates_but_few_turns_hold_unsent_replies(
    chat: Chat, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = chat.app.bot_data.services
    monkeypatch.setattr(services.engine, "replying", asyncio.Semaphore(3))
    request = chat.app.bot.request
    do_request = request.do_request
    telegram_back = asyncio.Event()

    async def slow_telegram(url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            await telegram_back.wait()
        return await do_request(url, *args, **kwargs)

    monkeypatch.setattr(request, "do_request", slow_telegram)
    path = services.settings.db_path
    voters = range(5001, 5011)
    async with Served(chat.app) as served:
        pushed = [api.push(api.text_update(v, "/start")) for v in voters]
        for _ in range(500):
            await asyncio.sleep(0.01)
            if len(served.worker.in_hand) == len(voters):
                break
        await asyncio.sleep(0.2)
        with sqlite3.connect(path) as db:
            (unsent,) = db.execute(
                "SELECT COUNT(*) FROM processed_updates WHERE replied_at IS NULL"
            ).fetchone()
        assert len(served.worker.in_hand) == 10  # every voter's update in hand at once
        assert unsent == 3  # but only three with replies stored and not yet sent
        telegram_back.set()
        await served.settle(max(p["update_id"] for p in pushed))
    assert all(len(_answers(api, v)) == 1 for v in voters)
