"""Fuzzing: random update streams through the real Application.process_update.

Streams mix texts with any Unicode (RTL, emoji, control characters, 4,096+ characters), real,
random and forged button data, unknown commands, edited and non-text messages, updates from
groups and channels and chat-member changes, from a few voters at once.

Properties:
- no handler raises: nothing is logged at ERROR (the error handler is never reached);
- every update from a voter in a private chat (message, edited message, button press) gets
  exactly one *answer sequence*: zero or more messages without buttons, then exactly one
  message with an inline keyboard — the step the voter is at — which is the last call;
- group commands get one pointer to the private chat; other group, channel and chat-member
  updates get nothing;
- the store stays consistent: SQLite integrity and foreign keys hold, every voter's committed
  step exists in the flows and is the step shown by their last keyboard, every handled update
  is recorded with its replies marked as sent.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import Application

from bot import callbacks
from bot.election import Election
from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application
from tests.fakes.botapi import PHOTO, STICKER, FakeBotAPI
from tests.fakes.inprocess import FakeRequest

VOTERS = [7001, 7002, 7003]
GROUP = -100777
SQL = ["'; DROP TABLE users; --", "1 OR 1=1", '" OR ""="', "Robert'); DELETE FROM roles;--"]
ODD = ["مرحبا، كيف أصوت؟", "‮gnirts desrever", "🗳️✅👩‍🏫", "\x00\x01\x1b[31m", "a\u0301\u200d", ""]


@dataclass
class World:
    """The real Application on the in-process fake API, with its own event loop."""

    runner: asyncio.Runner
    app: Application
    api: FakeBotAPI
    services: Services
    errors: list[logging.LogRecord]


class _Collect(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record)


@pytest.fixture
def world(settings: Settings, election: Election) -> Iterator[World]:
    runner = asyncio.Runner()
    api = FakeBotAPI()
    services = runner.run(Services.open(settings, election))
    app = build_application(settings, election, services, request=FakeRequest(api))
    runner.run(app.initialize())
    errors: list[logging.LogRecord] = []
    handler = _Collect(errors)
    logging.getLogger().addHandler(handler)
    try:
        yield World(runner, app, api, services, errors)
    finally:
        logging.getLogger().removeHandler(handler)
        runner.run(app.shutdown())
        runner.run(services.close())
        runner.close()


texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(SQL + ODD),
    st.text(min_size=1, max_size=3).map(lambda s: (s * 4200)[:4200]),
    st.integers(4090, 4100).map(lambda n: "é" * n),
)
commands = st.one_of(
    st.sampled_from(["/start", "/menu", "/aide", "/help", "/role", "/role add 7001 support"]),
    st.from_regex(r"/[a-z_]{1,20}", fullmatch=True),
    st.sampled_from(["/start@votebot_test_bot", "/menu extra args", "/" + "x" * 40]),
)
forged = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda f, s, t: f"{f}|{s}|{t}",
        st.sampled_from(["menu", "webmel", "admin", "role"]),
        st.sampled_from(["main", "welcome", "done", "enter_numen", "x"]),
        st.sampled_from(["back", "menu", "yes", "no", "next", "add"]),
    ),
)
event = st.one_of(
    st.tuples(st.just("text"), st.sampled_from(VOTERS), texts),
    st.tuples(st.just("command"), st.sampled_from(VOTERS), commands),
    st.tuples(st.just("press"), st.sampled_from(VOTERS), st.integers(0, 20)),
    st.tuples(st.just("forged"), st.sampled_from(VOTERS), forged),
    st.tuples(st.just("edited"), st.sampled_from(VOTERS), texts),
    st.tuples(st.just("media"), st.sampled_from(VOTERS), st.sampled_from(["sticker", "photo"])),
    st.tuples(st.just("group"), st.sampled_from(VOTERS), st.one_of(texts, commands)),
    st.tuples(st.just("channel"), st.just(0), texts),
    st.tuples(st.just("member"), st.sampled_from(VOTERS), st.sampled_from(["kicked", "member"])),
)


def _keyboard(message: dict[str, Any] | None) -> list[str]:
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def _update(api: FakeBotAPI, kind: str, user: int, value: Any, shown: dict) -> dict[str, Any]:
    if kind in ("text", "command", "edited", "group", "channel", "media"):
        update = api.text_update(user or 1, value if kind != "media" else "x")
        message = update["message"]
        if not message["text"]:
            message["text"] = " "
        if kind == "edited":
            message["edit_date"] = message["date"]
            update["edited_message"] = update.pop("message")
        elif kind == "media":
            del message["text"]
            message.pop("entities", None)
            message["photo" if value == "photo" else "sticker"] = (
                PHOTO if value == "photo" else STICKER
            )
        elif kind == "group":
            message["chat"] = {"id": GROUP, "type": "supergroup", "title": "Salle des profs"}
        elif kind == "channel":
            message["chat"] = {"id": GROUP - 1, "type": "channel", "title": "Infos"}
            message.pop("from")
            update["channel_post"] = update.pop("message")
        return update
    if kind == "member":
        bot = {"id": 123456, "is_bot": True, "first_name": "Votebot"}
        return api.push(
            {
                "my_chat_member": {
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "Camille"},
                    "date": 0,
                    "old_chat_member": {"status": "member", "user": bot},
                    "new_chat_member": {"status": value, "user": bot, "until_date": 0},
                }
            }
        )
    message = shown.get(user) or api.text_update(user, "x")["message"]
    if kind == "press":
        data = _keyboard(shown.get(user))
        value = data[value % len(data)] if data else "nothing"
    return api.press_update(user, message, value)


def _answers(api: FakeBotAPI, since: int, chat_id: int) -> list[dict[str, Any]]:
    return [
        c.params
        for c in api.calls[since:]
        if c.method in ("sendMessage", "editMessageText") and int(c.params["chat_id"]) == chat_id
    ]


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=st.lists(event, min_size=1, max_size=12))
def test_random_update_streams_never_crash_and_get_one_answer_each(
    world: World, stream: list[tuple[str, int, Any]]
) -> None:
    api, app = world.api, world.app
    shown: dict[int, dict[str, Any]] = {}
    for user in VOTERS:
        if user in shown or not api.sent(user):
            continue
        shown[user] = api.last_message(user)
    handled: list[int] = []
    for kind, user, value in stream:
        update = _update(api, kind, user, value, shown)
        since = len(api.calls)
        world.runner.run(app.process_update(Update.de_json(update, app.bot)))
        private = kind in ("text", "command", "press", "forged", "edited", "media")
        if private:
            answers = _answers(api, since, user)
            with_buttons = [a for a in answers if _keyboard(a)]
            assert len(with_buttons) == 1 and _keyboard(answers[-1]), (kind, value, answers)
            shown[user] = api.last_message(user)
            handled.append(update["update_id"])
        elif kind == "group":
            group = _answers(api, since, GROUP)
            is_command = update["message"]["text"].startswith("/")
            assert len(group) == (1 if is_command else 0)
            assert all(_answers(api, since, u) == [] for u in VOTERS)
        else:
            assert [c for c in api.calls[since:] if c.method != "getMe"] == []
    assert world.errors == [], [r.getMessage() for r in world.errors]
    assert api.errors == []
    _check_store(world, shown, handled)


def _check_store(world: World, shown: dict[int, dict[str, Any]], handled: list[int]) -> None:
    flows = world.services.engine.flows
    with sqlite3.connect(world.services.settings.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        states = dict(
            ((uid), (flow, state))
            for uid, flow, state in db.execute("SELECT user_id, flow, state FROM conversations")
        )
        recorded = dict(db.execute("SELECT update_id, replied_at FROM processed_updates"))
        dests = db.execute("SELECT flow, dest FROM transition_events").fetchall()
    for flow, state in [*states.values(), *dests]:
        assert flows.has(flow, state), (flow, state)
    for user, message in shown.items():
        press = callbacks.decode(_keyboard(message)[-1])
        assert press is not None and states[user] == (press.flow, press.state)
    for update_id in handled:
        assert recorded.get(update_id) is not None, update_id


# -- malformed updates through the real intake path (getUpdates → Poller → Application) -----

MALFORMED: list[dict[str, Any]] = [
    {},  # an update id only
    {"message": "not an object"},
    {"message": {"message_id": 1, "date": 0}},  # no chat
    {"message": {"message_id": 1, "date": 0, "chat": {"id": 7001}, "text": 5}},
    {"message": {"message_id": "x", "date": "y", "chat": {"id": "z", "type": "private"}}},
    {"callback_query": {"id": "1", "data": "menu|main|x"}},  # no sender
    {"callback_query": {"id": "1", "from": {"id": 7001}, "chat_instance": "1", "data": 5}},
    {"edited_message": {"chat": {"id": 7001, "type": "private"}, "text": "\u202e" * 5000}},
    {"my_chat_member": {"chat": {"id": 7001, "type": "private"}}},
    {"chat_member": None, "unknown_field": {"deep": [[[[]]]]}},
    {"message": {"message_id": 1, "date": 0, "chat": {"id": 7001, "type": "private"},
                 "from": {"id": 7001, "is_bot": False, "first_name": None}, "text": None}},
]  # fmt: skip


def test_malformed_updates_through_the_real_poller_never_stop_intake(world: World) -> None:
    from tests.conftest import Served

    api, app = world.api, world.app

    async def run() -> None:
        async with Served(app) as served:
            for raw in MALFORMED:  # one pair at a time: a burst would meet the flood cap
                api.push({"update_id": next(api._update_ids), **raw})
                last = api.push(api.text_update(7001, "/menu"))["update_id"]
                await served.settle(last)
                assert not served.task.done(), served.task
        counts = await app.bot_data.services.store.inbox_counts()
        assert counts.queued == 0 and counts.aside >= 1  # set aside and counted, never a crash

    world.runner.run(run())
    menus = [c for c in api.sent(7001) if _keyboard(c.params)]
    assert len(menus) >= len(MALFORMED)  # every well-formed update after a broken one answered
    assert world.errors == [], [r.getMessage() for r in world.errors]
    assert api.errors == []
