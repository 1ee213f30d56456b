"""Shared fixtures: real SQLite files, a real PostgreSQL server, real settings, the real PTB
Application on a fake API."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.election import Election, load_election
from bot.services import Services
from bot.settings import PARIS, Settings, load_settings
from bot.telegram.app import build_application
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.inprocess import FakeRequest
from tests.fakes.postgres import Cluster, ClusterUnavailable, start_cluster

TOKEN = "123456:TEST-secret-token"


def votebot_cli(
    cwd: Path, env: dict[str, str], *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `votebot` command line (`python -m bot ARGS`) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


# Account activation is open, voting not yet (creteil-2022 calendar).
ACTIVATION_NOW = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture
def election() -> Election:
    return load_election("creteil-2022")


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    """Test settings on a SQLite file in `tmp_path`, clock in account activation, admin 42."""
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "VOTEBOT_DB": str(tmp_path / "votebot.sqlite3"),
        "VOTEBOT_NOW": ACTIVATION_NOW.isoformat(),
        "VOTEBOT_ADMINS": "42",
    }
    return load_settings(None, **{**values, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def services(settings: Settings, election: Election) -> AsyncIterator[Services]:
    services = await Services.open(settings, election)
    yield services
    await services.close()


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def app(
    settings: Settings, election: Election, services: Services, api: FakeBotAPI
) -> AsyncIterator[Application]:
    application = build_application(settings, election, services, request=FakeRequest(api))
    await application.initialize()
    yield application
    await application.shutdown()
    assert api.errors == [], api.errors


class Chat:
    """A voter talking to the real Application through the fake Bot API."""

    def __init__(self, app: Application, api: FakeBotAPI, user_id: int = 1001) -> None:
        self.app, self.api, self.user_id = app, api, user_id

    async def feed(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(self, text: str) -> dict[str, Any]:
        update = self.api.text_update(self.user_id, text)
        await self.feed(update)
        return update

    async def press(self, label_part: str, message: dict[str, Any] | None = None) -> None:
        from tests.fakes.botapi import button_data

        message = message or self.last
        await self.feed(
            self.api.press_update(self.user_id, message, button_data(message, label_part))
        )

    @property
    def last(self) -> dict[str, Any]:
        return self.api.last_message(self.user_id)

    def texts(self) -> list[str]:
        return [c.params["text"] for c in self.api.sent(self.user_id)]


@pytest.fixture
def chat(app: Application, api: FakeBotAPI) -> Chat:
    return Chat(app, api)


# -- PostgreSQL ------------------------------------------------------------------------------

PG_TEMPLATE = "votebot_template"
_pg_skipped: list[str] = []
_pg_databases = itertools.count(1)


def pg_required() -> bool:
    """In CI (CI set) or with VOTEBOT_REQUIRE_PG=1, PostgreSQL tests must run, never skip."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("VOTEBOT_REQUIRE_PG") == "1"


async def _pg_admin(cluster: Cluster, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(cluster.url())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_migrate(url: str) -> None:
    from store import open_store

    store = await open_store(url)
    await store.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session, with a migrated template database."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        if pg_required():
            pytest.fail(f"PostgreSQL is required here (CI / VOTEBOT_REQUIRE_PG) but: {exc}")
        _pg_skipped.append(str(exc))
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        asyncio.run(_pg_admin(cluster, f"CREATE DATABASE {PG_TEMPLATE}"))
        asyncio.run(_pg_migrate(cluster.url(PG_TEMPLATE)))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh, migrated, empty PostgreSQL database for one test; dropped after it."""
    name = f"test_{os.getpid()}_{next(_pg_databases)}"
    asyncio.run(_pg_admin(pg_cluster, f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}"))
    yield pg_cluster.url(name)
    asyncio.run(_pg_admin(pg_cluster, f"DROP DATABASE {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store test opens its store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "votebot.sqlite3")
    url: str = request.getfixturevalue("pg_url")
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL tests did not run."""
    if not _pg_skipped:
        return
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if "PostgreSQL unavailable" in str(getattr(r, "longrepr", ""))
    ]
    terminalreporter.write_sep(
        "!",
        f"PostgreSQL NOT TESTED: {len(skipped)} test(s) skipped ({_pg_skipped[0]})",
        red=True,
        bold=True,
    )


class Served:
    """The production intake on the fake Bot API: the poller stores each getUpdates batch in
    the inbox, the inbox worker handles it (`async with Served(app) as served`)."""

    def __init__(self, app: Application) -> None:
        from bot.telegram.intake import worker_for
        from bot.telegram.polling import Poller

        self.app = app
        self.worker, self.intake = worker_for(app)
        self.poller = Poller(app, self.intake, timeout=0, idle=0.01)
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Served:
        from bot.telegram.polling import run_both

        await self.app.start()
        self.task = asyncio.create_task(
            run_both(self.worker, self.poller.run(self.stop), self.stop)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await self.task
        await self.app.stop()

    async def settle(self, last_update_id: int, timeout: float = 20) -> None:
        """Wait until updates up to `last_update_id` are stored and nothing is left queued."""
        store = self.app.bot_data.services.store
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
            caught_up = self.poller.highest >= last_update_id and not self.worker.in_hand
            if caught_up and (await store.inbox_counts()).queued == 0:
                return
        raise TimeoutError("updates not handled")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every async test on the event loop the bot serves on (bot/loop.py: uvloop)."""
    from bot.loop import new_loop

    return {"loop": new_loop}
