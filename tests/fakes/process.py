"""`votebot run` in a subprocess against the fake Bot API, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakes.http import FakeBotAPIServer

TOKEN = "123456:TEST"


class BotProcess:
    """`votebot run` in a subprocess, with its stderr kept for inspection."""

    def __init__(self, server: FakeBotAPIServer, workdir: Path) -> None:
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "VOTEBOT_DB": str(workdir / "votebot.sqlite3"),
            "VOTEBOT_NOW": "2022-11-02T10:00:00",
            "VOTEBOT_LOG_LEVEL": "DEBUG",
        }
        self.workdir = workdir
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        # Logs go to a file: a pipe nobody reads would fill up and block the bot.
        with open(self.workdir / "bot.log", "a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    @property
    def logs(self) -> str:
        return (self.workdir / "bot.log").read_text(encoding="utf-8")
