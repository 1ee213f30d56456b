"""End to end: the real `votebot run` process over HTTP against the fake Bot API server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotAPI, button_data
from tests.fakes.http import FakeBotAPIServer
from tests.fakes.process import TOKEN, BotProcess

VOTER = 555


@pytest.fixture
def server() -> Iterator[FakeBotAPIServer]:
    with FakeBotAPIServer(FakeBotAPI(), token=TOKEN) as srv:
        yield srv


def _answered(workdir: Path, update_id: int) -> bool:
    """Whether the bot recorded the update's replies as delivered (read from its database)."""
    with sqlite3.connect(workdir / "votebot.sqlite3") as db:
        row = db.execute(
            "SELECT replied_at FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
    return bool(row and row[0])


def _replies(api: FakeBotAPI) -> int:
    return len(api.sent(VOTER))


def test_run_serves_the_webmel_flow_survives_kill9_and_ignores_redelivery(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    api = server.api
    bot = BotProcess(server, tmp_path)
    bot.start()

    def press(label: str, replies: int) -> dict:
        message = api.last_message(VOTER)
        update = api.push(api.press_update(VOTER, message, button_data(message, label)))
        api.wait_for(lambda: _replies(api) == replies, timeout=30)
        return update

    try:
        api.push(api.text_update(VOTER, "/start"))
        api.wait_for(lambda: _replies(api) == 1, timeout=30)
        press("Passer", 2)
        press("Non merci", 3)
        press("adresse académique", 4)
        last_press = press("Non", 5)
        assert "Connaître son identifiant" in api.last_message(VOTER)["text"]
        api.wait_for(lambda: _answered(tmp_path, last_press["update_id"]))

        bot.kill9()  # mid-flow, no goodbye
        bot.start()
        api.push(dict(last_press))  # Telegram re-delivers an update the dead process held
        press("Connaître", 6)
        assert "NUMEN" in api.last_message(VOTER)["text"]
        api.push(api.text_update(VOTER, "/aide"))
        api.wait_for(lambda: _replies(api) == 8)
    finally:
        bot.stop()
    texts = [c.params["text"] for c in api.sent(VOTER)]
    assert sum("Connaître son identifiant" in t for t in texts) == 1  # redelivery: no 2nd reply
    assert api.errors == [] and server.bad_tokens == []
    (menu,) = {str(c.params["commands"]) for c in api.calls if c.method == "setMyCommands"}
    assert "progression" in menu and "Ma progression" in menu
    assert TOKEN not in bot.logs and TOKEN.split(":")[1] not in bot.logs
