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
    api, port = server.api, _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    env = _env(server, tmp_path, VOTEBOT_WEBHOOK_SECRET=SECRET, VOTEBOT_WEBHOOK_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--webhook", url],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        api.wait_for(lambda: api.webhook is not None, timeout=30)
        assert api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
        with httpx.Client(timeout=10) as client:
            for _ in range(100):  # the HTTP server comes up right after setWebhook
                try:
                    client.post(url, json={})
                    break
                except httpx.TransportError:
                    time.sleep(0.05)

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
