"""Webhook mode: the real `votebot run --webhook URL` process, over real HTTP both ways."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.telegram.webhook import spinner_of
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.http import FakeBotAPIServer

TOKEN = "123456:TEST"
SECRET = "webhook-secret_0123456789abcdef"
VOTER = 556


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[FakeBotAPIServer]:
    with FakeBotAPIServer(FakeBotAPI(), token=TOKEN) as srv:
        yield srv


def _env(server: FakeBotAPIServer, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "VOTEBOT_DB": str(workdir / "votebot.sqlite3"),
        "VOTEBOT_NOW": "2022-11-02T10:00:00",
        "VOTEBOT_LOG_LEVEL": "DEBUG",
        **extra,
    }


def _start(server: FakeBotAPIServer, workdir: Path) -> tuple[subprocess.Popen[str], str]:
    """`votebot run --webhook` on a free port, its logs piped; (process, webhook URL) once
    it has called setWebhook."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    env = _env(server, workdir, VOTEBOT_WEBHOOK_SECRET=SECRET, VOTEBOT_WEBHOOK_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--webhook", url],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server.api.wait_for(lambda: server.api.webhook is not None, timeout=30)
    return proc, url


def _wait_until_served(client: httpx.Client, url: str) -> None:
    """The HTTP server comes up right after setWebhook."""
    for _ in range(100):
        try:
            client.post(url, json={})
            return
        except httpx.TransportError:
            time.sleep(0.05)


def test_webhook_mode_needs_the_secret(server: FakeBotAPIServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--webhook", "https://bot.example.org/hook"],
        env=_env(server, tmp_path, VOTEBOT_WEBHOOK_SECRET=""),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "VOTEBOT_WEBHOOK_SECRET" in done.stderr


def test_webhook_serves_only_calls_bearing_the_secret(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    api = server.api
    proc, url = _start(server, tmp_path)
    try:
        assert api.webhook is not None
        assert api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
        with httpx.Client(timeout=10) as client:
            _wait_until_served(client, url)

            def post(update: dict, secret: str | None) -> int:
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                return client.post(url, json=update, headers=headers).status_code

            assert post(api.text_update(VOTER, "/start"), None) == 403
            assert post(api.text_update(VOTER, "/start"), "wrong-secret-0123456789") == 403
            time.sleep(0.3)
            assert api.sent(VOTER) == []  # refused calls were not handled
            assert post(api.text_update(VOTER, "/start"), SECRET) == 200
            api.wait_for(lambda: len(api.sent(VOTER)) == 1, timeout=15)
        assert "élections professionnelles" in api.sent(VOTER)[0].params["text"]
    finally:
        proc.send_signal(signal.SIGINT)
        logs = proc.communicate(timeout=20)[0]
    assert SECRET not in logs and TOKEN not in logs
    assert api.errors == [] and server.bad_tokens == []


def test_a_press_spinner_is_stopped_by_the_webhook_answer(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    """The 200 to a voter's button press carries answerCallbackQuery (Telegram runs a method
    given in a webhook's answer): the bot makes no call of its own for it."""
    api = server.api
    proc, url = _start(server, tmp_path)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        with httpx.Client(timeout=10) as client:
            _wait_until_served(client, url)
            start = client.post(url, json=api.text_update(VOTER, "/start"), headers=headers)
            assert start.status_code == 200 and start.content == b""  # nothing to run
            api.wait_for(lambda: len(api.sent(VOTER)) == 1, timeout=15)
            shown = api.last_message(VOTER)
            data = shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            press = api.press_update(VOTER, shown, data)
            answer = client.post(url, json=press, headers=headers)
            assert answer.status_code == 200
            assert answer.json() == {
                "method": "answerCallbackQuery",
                "callback_query_id": press["callback_query"]["id"],
            }
            api.webhook_answer(answer.content)  # what Telegram does with it
            api.wait_for(lambda: len(api.sent(VOTER)) == 2, timeout=15)
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    spinners = [c for c in api.calls if c.method == "answerCallbackQuery"]
    assert len(spinners) == 1  # the webhook's answer only
    assert api.sent(VOTER)[1].method == "editMessageText"  # the press still edits in place
    assert api.errors == []


def test_only_a_voters_flow_button_is_answered_by_the_webhook() -> None:
    """Other presses are answered by their handlers (a staff claim shows a text)."""

    def press(data: str, chat_type: str = "private") -> dict:
        chat = {"id": VOTER if chat_type == "private" else -100, "type": chat_type}
        query = {"id": "q1", "data": data, "message": {"message_id": 1, "chat": chat}}
        return {"update_id": 1, "callback_query": query}

    assert spinner_of(press("v1|menu|main|vote")) == "q1"
    assert spinner_of(press("hd:claim:3")) is None  # support: answered with a text
    assert spinner_of(press("sup:forget:3")) is None
    assert spinner_of(press("v1|menu|main|vote", "supergroup")) is None
    assert spinner_of({"update_id": 2, "message": {"text": "/start"}}) is None
