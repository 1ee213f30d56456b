"""Security: staff commands refused to voters, secrets kept out of logs and the database,
SQL injection inert — through the real Application on the in-process fake Bot API."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.broadcast import ensure_plan
from bot.election import Election
from bot.flows import default_flows
from bot.logs import NOISY, configure_logging
from bot.services import Services
from bot.telegram.app import build_application
from store import Audience, Conversation, StepCommit
from tests.conftest import ACTIVATION_NOW, TOKEN, Chat, Served, make_settings, votebot_cli
from tests.fakes.botapi import FakeBotAPI, button_data
from tests.fakes.http import FakeBotAPIServer
from tests.fakes.inprocess import FakeRequest

# Commands any voter may use. Every other CommandHandler is treated as a staff, union or
# admin command and must be refused to a plain voter: add new voter commands here.
VOTER_COMMANDS = {"start", "menu", "aide", "help", "profil", "progression", "rappels", "oubli"}
VOTER = 1001  # not in VOTEBOT_ADMINS (42), no role

NUMEN = "17E0412345ABC"
PASSWORD = "Motdepasse!Creteil2022"
VOTE_CODE = "VK7P-9QX2-MZ4T"
SECRETS = [TOKEN, TOKEN.split(":")[1], NUMEN, PASSWORD, VOTE_CODE]
PASTES = [
    NUMEN,
    f"mon numen c'est {NUMEN}",
    f"mot de passe : {PASSWORD}",
    f"voici mon code de vote {VOTE_CODE}",
    f"NUMEN {NUMEN.lower()} né le 12/03/1980",
    TOKEN,
]
INJECTIONS = [
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    '"); DELETE FROM roles; --',
    "Robert'); UPDATE conversations SET state='done';--",
    "x' UNION SELECT token FROM secrets --",
]


def staff_commands(app: Application) -> set[str]:
    """Every registered /command that is not on the voter allow-list."""
    found: set[str] = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                found |= set(handler.commands)
    return found - VOTER_COMMANDS


def staff_callback_patterns(app: Application) -> list[str]:
    """Regex patterns of button handlers restricted to some callback data (staff buttons)."""
    patterns = []
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = getattr(handler.pattern, "pattern", handler.pattern)
                if isinstance(pattern, str):
                    patterns.append(pattern)
    return patterns


def test_staff_commands_are_discovered_from_the_application(app: Application) -> None:
    assert "role" in staff_commands(app)
    registered = set().union(
        *(h.commands for hs in app.handlers.values() for h in hs if isinstance(h, CommandHandler))
    )
    assert registered >= VOTER_COMMANDS  # the allow-list names real commands


async def test_every_staff_command_is_refused_to_a_plain_voter(chat: Chat) -> None:
    services = chat.app.bot_data.services
    await chat.say("/start")
    for command in sorted(staff_commands(chat.app)):
        for text in (f"/{command}", f"/{command} list", f"/{command} add {VOTER} support"):
            before = len(chat.texts())
            await chat.say(text)
            answer = chat.texts()[before:]
            unknown = services.renderer.text("common/unknown_command.html", {"command": command})
            assert answer[0] == unknown, (text, answer)
            assert len(answer) == 2 and "Bonjour" in answer[1]  # back where they were
    assert await services.store.list_roles() == []
    assert await services.store.roles_of(VOTER) == frozenset()


async def test_a_support_agent_is_refused_admin_commands(chat: Chat) -> None:
    services = chat.app.bot_data.services
    await services.store.grant_role(VOTER, "support", 42, ACTIVATION_NOW)
    await chat.say("/role add 1001 broadcaster")
    assert "Je ne connais pas la commande /role" in chat.texts()[-2]
    assert await services.store.roles_of(VOTER) == frozenset({"support"})


async def test_forged_staff_buttons_are_refused(chat: Chat) -> None:
    services = chat.app.bot_data.services
    version = services.engine.flows.version
    await chat.say("/start")
    for command in [*sorted(staff_commands(chat.app)), "admin", "support", "broadcast"]:
        for data in (
            f"{version}|{command}|{command}|add",
            f"{version}|{command}|list|{VOTER}",
            f"{command}:add:{VOTER}:support",
            f"{command}|add|{VOTER}|broadcaster",
        ):
            await chat.feed(chat.api.press_update(VOTER, chat.last, data))
            assert "expiré" in chat.texts()[-2], data
            assert "Bonjour" in chat.texts()[-1]
    assert await services.store.list_roles() == []


def _database_text(chat: Chat) -> str:
    path = chat.app.bot_data.services.settings.db_path
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


async def test_pasted_secrets_reach_neither_logs_nor_database_nor_replies(chat: Chat) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in NOISY}
    configure_logging("DEBUG", TOKEN)  # the production set-up, at its most verbose
    keep = Keep()
    for f in root.handlers[0].filters:
        keep.addFilter(f)
    root.addHandler(keep)
    served = await Served(chat.app).__aenter__()  # through getUpdates, as in production

    async def through_telegram(*updates: dict[str, Any]) -> None:
        for update in updates:
            chat.api.push(update)
        await served.settle(updates[-1]["update_id"])

    try:
        await through_telegram(chat.api.text_update(VOTER, "/start"))
        for flow in default_flows():
            for step in flow.steps:
                await _place(chat, flow.name, step.name)
                for paste in PASTES:
                    edited = chat.api.text_update(VOTER, paste)
                    edited["edited_message"] = edited.pop("message")
                    edited["edited_message"]["edit_date"] = 0
                    await through_telegram(chat.api.text_update(VOTER, paste), edited)
                await through_telegram(chat.api.press_update(VOTER, chat.last, NUMEN))
        await through_telegram(chat.api.text_update(VOTER, f"/start {NUMEN}"))
    finally:
        await served.__aexit__()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    logs = "\n".join(
        logging.Formatter().format(r) for r in records if r.name.split(".")[0] != "tests"
    )
    stored = _database_text(chat)
    replies = "\n".join(chat.texts())
    for secret in SECRETS:
        assert secret not in logs, secret
        assert secret not in stored, secret
        assert secret not in replies, secret
        assert secret.lower() not in stored.lower()


def test_redact_masks_every_pasted_secret() -> None:
    import bot.redact as redact

    for paste in PASTES[:-1]:
        masked, found = redact.redact(paste)
        assert found
        assert all(s not in masked for s in (NUMEN, PASSWORD, VOTE_CODE)), masked


async def _place(chat: Chat, flow: str, state: str) -> None:
    """Put the voter at a step directly through the store (as if they had walked there)."""
    store = chat.app.bot_data.services.store
    await store.commit_step(
        StepCommit(
            conversation=Conversation(VOTER, flow, state, {"history": ["menu.main"]}),
            events=(),
            update_id=None,
            replies=[],
            first_name="Camille",
        ),
        ACTIVATION_NOW,
    )


async def test_sql_injection_in_every_free_text_entry_is_inert(chat: Chat) -> None:
    services = chat.app.bot_data.services
    await services.store.grant_role(4242, "support", 42, ACTIVATION_NOW)
    path = services.settings.db_path
    with sqlite3.connect(path) as db:
        schema = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()

    async def say_as(name: str, text: str) -> dict[str, Any]:
        update = chat.api.text_update(VOTER, text, first_name=name)
        await chat.feed(update)
        return update

    for flow in default_flows():
        for step in flow.steps:
            await _place(chat, flow.name, step.name)
            for text in INJECTIONS:
                before = len(chat.api.sent(VOTER))
                await say_as(INJECTIONS[0], text)
                after = chat.api.sent(VOTER)[before:]
                assert after and after[-1].params.get("reply_markup"), (flow.name, step.name)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
        assert db.execute("SELECT user_id, role FROM roles").fetchall() == [(4242, "support")]
        assert (
            db.execute("SELECT first_name FROM users WHERE user_id = ?", (VOTER,)).fetchone()[0]
            == (INJECTIONS[0])
        )
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert await services.store.count_users() == 1


# -- secrets in commands, captions, file names and edits -----------------------------------

SUPPORT_CHAT = -1001234567890
OTHER_GROUP = -1009999999999
STAFF = 77
STRANGER = 88


@pytest.fixture
async def staffed(tmp_path: Path, election: Election, api: FakeBotAPI) -> AsyncIterator[Chat]:
    """A voter of a bot with a staff group (handoffs), STAFF holding the support role."""
    settings = make_settings(tmp_path / "staffed", VOTEBOT_SUPPORT_CHAT=str(SUPPORT_CHAT))
    (tmp_path / "staffed").mkdir()
    services = await Services.open(settings, election)
    await services.store.grant_role(STAFF, "support", 42, ACTIVATION_NOW)
    application = build_application(settings, election, services, request=FakeRequest(api))
    await application.initialize()
    yield Chat(application, api, VOTER)
    await application.shutdown()
    await services.close()
    assert api.errors == [], api.errors


def _deleted(api: FakeBotAPI, chat_id: int) -> list[int]:
    return [
        int(c.params["message_id"])
        for c in api.calls
        if c.method == "deleteMessage" and int(c.params["chat_id"]) == chat_id
    ]


def _document(api: FakeBotAPI, user_id: int, file_name: str, caption: str = "") -> dict:
    update = api.text_update(user_id, "x")
    message = update["message"]
    message.pop("text")
    message["document"] = {"file_id": "d1", "file_unique_id": "d1", "file_name": file_name}
    if caption:
        message["caption"] = caption
    return update


def _edited(update: dict) -> dict:
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = 0
    return update


def _topic_texts(api: FakeBotAPI) -> list[str]:
    return [
        c.params.get("text") or c.params.get("caption") or f"<{c.method}>"
        for c in api.calls
        if int(c.params.get("chat_id", 0)) == SUPPORT_CHAT
    ]


@pytest.mark.parametrize(
    "text", ["/start 24E1700016XYZ", "/aide Creteil17x2022!", "/menu mdp MotDePasseHuitTresLong"]
)
async def test_a_secret_in_command_arguments_is_deleted(chat: Chat, text: str) -> None:
    await chat.say("/start")
    update = await chat.say(text)
    assert update["message"]["message_id"] in _deleted(chat.api, VOTER)
    assert "effacé" in chat.texts()[-2]
    assert text.split(" ", 1)[1] not in _database_text(chat)


async def test_secrets_in_captions_and_file_names_are_deleted(chat: Chat) -> None:
    await chat.say("/start")
    for update in (
        _document(chat.api, VOTER, "numen ２４Ｅ１７０００１６ＸＹＺ.pdf"),
        _document(chat.api, VOTER, "notice.pdf", caption="code de vote : VK11 9QX2 MZ4T"),
    ):
        await chat.feed(update)
        assert update["message"]["message_id"] in _deleted(chat.api, VOTER)
        assert "effacé" in chat.texts()[-2]
    await chat.feed(plain := _document(chat.api, VOTER, "notice de vote.pdf"))
    assert plain["message"]["message_id"] not in _deleted(chat.api, VOTER)


async def test_during_a_handoff_secrets_are_deleted_and_staff_get_the_placeholder(
    staffed: Chat,
) -> None:
    api = staffed.api
    await staffed.say("/menu")
    await staffed.press("Parler à quelqu'un")
    await staffed.say("Bonjour, mon compte est bloqué")
    first = await staffed.say("mon numen est")
    await staffed.feed(_edited(first_edit := api.text_update(VOTER, "mon numen 24E1700016XYZ")))
    assert first_edit["edited_message"]["message_id"] in _deleted(api, VOTER)
    document = _document(api, VOTER, "24E1700016XYZ.pdf")
    await staffed.feed(document)
    assert document["message"]["message_id"] in _deleted(api, VOTER)
    await staffed.say("mon mot de passe est creteil07x2022")
    staff_side = "\n".join(_topic_texts(api))
    assert "<copyMessage>" not in staff_side  # the document never reaches staff
    assert "👤 [secret retiré]" in staff_side
    for secret in ("24E1700016XYZ", "1700016", "creteil07x2022"):
        assert secret not in staff_side
        assert secret not in _database_text(staffed)
    assert first["message"]["message_id"] not in _deleted(api, VOTER)


# -- a whole journey at DEBUG leaves no name, text or secret in the log --------------------


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.asynccontextmanager
async def _production_logging_and_polling(
    chat: Chat,
) -> AsyncIterator[tuple[_Keep, Callable[..., Awaitable[None]]]]:
    """Logging as `votebot run` sets it up at DEBUG, updates fetched by the real poller."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in NOISY}
    configure_logging("DEBUG", TOKEN, "webhook-secret-value-0123")
    keep = _Keep()
    keep.setFormatter(root.handlers[0].formatter)
    for f in root.handlers[0].filters:
        keep.addFilter(f)
    root.addHandler(keep)
    served = await Served(chat.app).__aenter__()  # through getUpdates and the inbox

    async def through_telegram(*updates: dict[str, Any]) -> None:
        for update in updates:
            chat.api.push(update)
        await served.settle(updates[-1]["update_id"])

    try:
        yield keep, through_telegram
    finally:
        await served.__aexit__()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_debug_log_of_a_whole_journey_holds_no_name_text_or_secret(
    staffed: Chat,
) -> None:
    api = staffed.api
    voter_name, staff_name = "Gwenaëlle", "Baptistine"
    texts = [
        "je cherche ma collègue Ophélie Vandermeersch",
        "Bonjour, mon compte académique reste bloqué depuis lundi",
        "mon mot de passe est creteil07x2022",
        "code de vote : VK11 9QX2 MZ4T",
        "numen 24E1700016XYZ",
    ]
    staff_text = "Essayez de vider le cache du navigateur Firefox"
    async with _production_logging_and_polling(staffed) as (keep, through_telegram):

        async def say(text: str) -> None:
            await through_telegram(api.text_update(VOTER, text, first_name=voter_name))

        async def press(label: str) -> None:
            data = button_data(staffed.last, label)
            await through_telegram(api.press_update(VOTER, staffed.last, data))

        await say("/start")
        await say(texts[0])
        await say("/menu")
        await press("Parler à quelqu'un")
        for text in texts[1:]:
            await say(text)
        (thread,) = api.topics[SUPPORT_CHAT]
        await through_telegram(
            api.topic_update(SUPPORT_CHAT, STAFF, thread, staff_text, first_name=staff_name)
        )
        await through_telegram(
            api.topic_update(SUPPORT_CHAT, STAFF, thread, "/fermer", first_name=staff_name)
        )
        await say(last_text := "Merci beaucoup, ça marche maintenant")
        assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)  # really at DEBUG
        logging.getLogger("telegram.ext.Application").warning("update %s", staffed.last)
    assert "update <hidden>" in "\n".join(keep.format(r) for r in keep.records)
    log = "\n".join(keep.format(r) for r in keep.records if not r.name.startswith("tests"))
    assert staff_text in "\n".join(staffed.texts())  # the journey did happen
    words = [voter_name, staff_name, "Camille", "Ophélie", "Vandermeersch", "Firefox", "Merci"]
    words += ["bloqué", "creteil07x2022", "VK11", "9QX2", "24E1700016XYZ", "1700016"]
    words += [TOKEN, TOKEN.split(":")[1], "webhook-secret-value-0123", last_text]
    for word in words:
        assert word not in log, word


# -- the token -------------------------------------------------------------------------------

REJECTED = "654321:REJECTED-token-value"


@pytest.mark.parametrize("mode", [[], ["--webhook", "https://bot.example.org/hook"]])
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_rejected_token_stops_the_bot_with_one_masked_line(
    tmp_path: Path, mode: list[str], level: str
) -> None:
    with FakeBotAPIServer(token=TOKEN) as server:  # answers 401 to any other token
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": REJECTED,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "VOTEBOT_DB": str(tmp_path / "votebot.sqlite3"),
            "VOTEBOT_WEBHOOK_SECRET": "webhook-secret_0123456789",
            "VOTEBOT_WEBHOOK_PORT": str(_free_port()),
            "VOTEBOT_LOG_LEVEL": level,
        }
        done = votebot_cli(tmp_path, env, "run", *mode, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert REJECTED not in output and REJECTED.split(":")[1] not in output
    assert "Traceback" not in output
    (line,) = [x for x in done.stderr.splitlines() if "TELEGRAM_BOT_TOKEN" in x]
    assert line.startswith("votebot: Telegram rejected TELEGRAM_BOT_TOKEN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- one guard for every update kind -------------------------------------------------------


def _group_message(chat_id: int) -> dict[str, Any]:
    return {
        "message_id": 5,
        "date": 0,
        "chat": {"id": chat_id, "type": "supergroup", "title": "Groupe", "is_forum": True},
        "text": "Bloqués : Camille",
    }


def _user_ids(chat: Chat) -> set[int]:
    path = chat.app.bot_data.services.settings.db_path
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT user_id FROM users")}


async def _calls_after(chat: Chat, update: dict[str, Any]) -> list[str]:
    before = len(chat.api.calls)
    await chat.feed(update)
    return [c.method for c in chat.api.calls[before:]]


async def test_forged_buttons_in_groups_get_answer_callback_query_only(staffed: Chat) -> None:
    api, version = staffed.api, staffed.app.bot_data.services.engine.flows.version
    await staffed.say("/start")  # the voter exists
    users = _user_ids(staffed)
    for group in (SUPPORT_CHAT, OTHER_GROUP):
        for user in (STRANGER, STAFF, VOTER):
            for data in (
                f"sup:open:{VOTER}",
                f"{version}|menu|main|human",
                "sup:forget:forget_yes",
            ):
                if group == SUPPORT_CHAT and user == STAFF and data.startswith("sup:open"):
                    continue  # the one legitimate press, below
                update = api.press_update(user, _group_message(group), data)
                assert await _calls_after(staffed, update) == ["answerCallbackQuery"], (
                    group,
                    user,
                    data,
                )
    assert _user_ids(staffed) == users  # no row for the stranger nor for staff
    store = staffed.app.bot_data.services.store
    assert await store.open_handoff_of(VOTER) is None
    # The legitimate press: a support member in the staff group takes the voter over.
    press = api.press_update(STAFF, _group_message(SUPPORT_CHAT), f"sup:open:{VOTER}")
    assert "sendMessage" in await _calls_after(staffed, press)
    assert await store.open_handoff_of(VOTER) is not None


async def test_other_update_kinds_from_groups_are_ignored(staffed: Chat) -> None:
    api = staffed.api
    member = {"status": "member", "user": {"id": STRANGER, "is_bot": False, "first_name": "X"}}
    for group in (SUPPORT_CHAT, OTHER_GROUP):
        chat = _group_message(group)["chat"]
        edited = _edited(api.topic_update(group, STRANGER, None, "/start bonjour"))
        joined = {
            "update_id": 10_000 + abs(group) % 1000,
            "chat_member": {
                "chat": chat,
                "from": member["user"],
                "date": 0,
                "old_chat_member": {"status": "left", "user": member["user"]},
                "new_chat_member": member,
            },
        }
        text = api.topic_update(group, STRANGER, None, "bonjour à tous")
        for update in (edited, joined, text):
            assert await _calls_after(staffed, update) == [], (group, update)
    assert _user_ids(staffed) == set()


def test_the_staff_group_buttons_are_those_of_support() -> None:
    from bot.telegram import guards, handoff, helpdesk

    assert guards.STAFF_BUTTONS == (handoff.OPEN_PREFIX, helpdesk.CLAIM_PREFIX)


# Button prefixes a voter may press (/oubli's confirmation, the rating after a handoff). Every
# other button handler restricted by a pattern is a staff one: add new voter buttons here.
VOTER_BUTTONS = ("sup:forget:", "hd:rate:")
# Tables only staff actions change: a refused press must leave them as they were.
STAFF_TABLES = (
    "roles",
    "handoffs",
    "bans",
    "support_bans",
    "broadcasts",
    "broadcast_recipients",
    "broadcast_drafts",
    "election_settings",
)


def staff_button_patterns(app: Application) -> list[str]:
    """Patterns of the staff button handlers (the patterned ones not on the voter list)."""
    return [p for p in staff_callback_patterns(app) if not p.lstrip("^").startswith(VOTER_BUTTONS)]


def _staff_tables(chat: Chat) -> dict[str, list[tuple[Any, ...]]]:
    path = chat.app.bot_data.services.settings.db_path
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in STAFF_TABLES}


async def _seen(chat: Chat, update: dict[str, Any], chat_id: int) -> list[tuple[str, Any]]:
    """What a press showed: each Bot API call made for it, with its text, in `chat_id`."""
    before = len(chat.api.calls)
    await chat.feed(update)
    calls = chat.api.calls[before:]
    assert all(int(c.params.get("chat_id", chat_id)) == chat_id for c in calls), calls
    return [(c.method, c.params.get("text")) for c in calls]


def test_there_are_staff_buttons_to_forge(app: Application) -> None:
    patterns = staff_button_patterns(app)
    for prefix in ("sup:open:", "hd:claim:", "bc:", "pl:"):
        assert any(p.lstrip("^").startswith(prefix) for p in patterns), (prefix, patterns)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_button_data_matching_staff_handlers_is_refused(staffed: Chat, data) -> None:
    """Data drawn from each staff button's pattern, pressed by a voter in a private chat and by
    a non-member in the staff group: the voter sees what any stale button shows, the group
    only an answer to the press; nothing staff own changes (no claim, no handoff, no send)."""
    api, services = staffed.api, staffed.app.bot_data.services
    first = await services.store.open_handoff_of(5005) is None
    if first:  # once: a voter waiting for support, a broadcast, the calendar plan
        await _ask_for_a_person(Chat(staffed.app, api, 5005))
        await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
        await ensure_plan(services.store, services.renderer, services.election, ACTIVATION_NOW)
        await staffed.say("/start")
    handoff = await services.store.open_handoff_of(5005)
    assert handoff is not None and handoff.thread_id is not None and handoff.agent_id is None
    # Ids and keys that exist (the handoff, the broadcast, the voters, plan reminders)…
    targets = [str(handoff.id), "1", str(VOTER), "5005", "opening", "eve", "0", "-1"]
    # …and anything else.
    noise = st.from_regex(r"[a-z0-9_:-]{0,20}", fullmatch=True)
    before = _staff_tables(staffed)
    forged = []
    for pattern in staff_button_patterns(staffed.app):
        prefix = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda v: len(v) <= 30))
        tails = [data.draw(st.sampled_from(targets)), data.draw(noise)]
        forged += [prefix + tail for tail in [*tails, *(targets if first else ())]]
    control = await _seen(staffed, api.press_update(VOTER, staffed.last, "zz:stale"), VOTER)
    for value in forged:
        private = api.press_update(VOTER, staffed.last, value)
        assert await _seen(staffed, private, VOTER) == control, value
        group = api.press_update(STRANGER, _group_message(SUPPORT_CHAT), value)
        assert await _seen(staffed, group, SUPPORT_CHAT) == [("answerCallbackQuery", None)], value
    assert _staff_tables(staffed) == before


# -- bans, the handoff cap, names shown to staff, a voter who blocks the bot ----------------


async def _ask_for_a_person(voter: Chat, text: str = "Bonjour, j'ai besoin d'aide") -> None:
    await voter.say("/menu")
    await voter.press("Parler à quelqu'un")
    await voter.say(text)


async def _staff_says(voter: Chat, text: str, thread: int | None) -> None:
    await voter.feed(voter.api.topic_update(SUPPORT_CHAT, STAFF, thread, text))


def _topics(api: FakeBotAPI) -> list[int]:
    return list(api.topics.get(SUPPORT_CHAT, {}))


async def test_a_ban_holds_through_oubli_until_debannir(staffed: Chat) -> None:
    api = staffed.api
    await _ask_for_a_person(staffed)
    (thread,) = _topics(api)
    await _staff_says(staffed, "/bannir", thread)
    await staffed.say("/oubli")
    await staffed.press("tout effacer")
    with sqlite3.connect(staffed.app.bot_data.services.settings.db_path) as db:
        assert db.execute("SELECT * FROM bans").fetchall() == [(VOTER, None)]  # nothing else
        assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (0,)
    await staffed.say("/start")
    await staffed.press("Parler à quelqu'un") if "Parler" in str(staffed.last) else None
    await _ask_for_a_person(staffed, "me revoilà")
    assert "pas joignable" in "\n".join(staffed.texts()[-3:])
    assert _topics(api) == [thread]  # no new topic, nothing relayed
    assert "me revoilà" not in "\n".join(_topic_texts(api))
    await _staff_says(staffed, f"/debannir {VOTER}", None)
    assert "n'est plus bloquée" in _topic_texts(api)[-1]
    await _ask_for_a_person(staffed, "merci de me débloquer")
    assert len(_topics(api)) == 2


async def test_debannir_is_a_support_command(chat: Chat) -> None:
    await chat.say(f"/debannir {VOTER}")
    assert "Je ne connais pas la commande /debannir" in chat.texts()[-2]


async def test_handoff_requests_are_capped_per_hour(staffed: Chat) -> None:
    for round_ in range(6):
        await _ask_for_a_person(staffed, f"demande numéro {round_}")
        await staffed.say("/menu")
    assert len(_topics(staffed.api)) == 3  # VOTEBOT_HANDOFFS_PER_HOUR
    assert "plusieurs fois" in "\n".join(staffed.texts())


async def test_names_shown_to_staff_lose_control_and_bidi_characters(staffed: Chat) -> None:
    spoof = "Ca\u202emille\u202c\u2066 \u200fAdmin\u0007\u2028x"
    api = staffed.api
    await staffed.feed(api.text_update(VOTER, "/menu", first_name=spoof))
    press = api.press_update(VOTER, staffed.last, button_data(staffed.last, "Parler à quelqu'un"))
    press["callback_query"]["from"]["first_name"] = spoof
    await staffed.feed(press)
    await staffed.feed(api.text_update(VOTER, "Bonjour", first_name=spoof))
    (thread,) = _topics(staffed.api)
    shown = staffed.api.topics[SUPPORT_CHAT][thread]["name"] + "\n".join(_topic_texts(staffed.api))
    assert "Camille Admin x" in shown
    assert not any(c in shown for c in "\u202e\u202c\u2066\u200f\u0007\u2028")


async def test_blocking_the_bot_during_a_handoff_marks_inactive_and_tells_the_topic(
    staffed: Chat,
) -> None:
    await _ask_for_a_person(staffed)
    assert len(_topics(staffed.api)) == 1
    bot = {"id": 999, "is_bot": True, "first_name": "votebot"}
    voter = {"id": VOTER, "is_bot": False, "first_name": "Camille"}
    await staffed.feed(
        {
            "update_id": 90_001,
            "my_chat_member": {
                "chat": {"id": VOTER, "type": "private", "first_name": "Camille"},
                "from": voter,
                "date": 0,
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
            },
        }
    )
    store = staffed.app.bot_data.services.store
    assert not (await store.get_user(VOTER)).active
    assert "a bloqué l'assistant" in _topic_texts(staffed.api)[-1]


# -- the webhook: refused on its headers, bodies capped, nothing logged ---------------------

HOOK_SECRET = "webhook-secret_0123456789abcdef"
WRONG = "wrong-SECRET-value-987654"
BODIES = ("Texte-secret-du-corps", "Texte-du-corps-accepte")


def _raw_call(port: int, headers: dict[str, str], body: bytes = b"") -> str:
    """Send a POST's headers (and maybe part of its body) and read the first answer line."""
    lines = ["POST /telegram-hook HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return sock.recv(200).decode(errors="replace").split("\r\n")[0]


def test_the_webhook_refuses_on_headers_caps_bodies_and_logs_nothing(tmp_path: Path) -> None:
    port = _free_port()
    with FakeBotAPIServer(token=TOKEN) as server:
        api = server.api
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "VOTEBOT_DB": str(tmp_path / "votebot.sqlite3"),
            "VOTEBOT_NOW": ACTIVATION_NOW.isoformat(),
            "VOTEBOT_WEBHOOK_SECRET": HOOK_SECRET,
            "VOTEBOT_WEBHOOK_PORT": str(port),
            "VOTEBOT_WEBHOOK_MAX_BODY": "100000",
            "VOTEBOT_LOG_LEVEL": "DEBUG",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "run",
                "--webhook",
                f"http://127.0.0.1:{port}/telegram-hook",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            api.wait_for(lambda: api.webhook is not None, timeout=30)
            huge = {"Content-Type": "application/json", "Content-Length": "99000000"}
            for _ in range(100):
                try:
                    # 99 MB announced, none sent: answered at once, so the body was not awaited
                    first = _raw_call(
                        port,
                        {**huge, "X-Telegram-Bot-Api-Secret-Token": "wrong-SECRET-value-987654"},
                    )
                    break
                except ConnectionRefusedError:
                    time.sleep(0.05)
            assert first.startswith("HTTP/1.1 403"), first
            assert _raw_call(port, huge).startswith("HTTP/1.1 403")
            right = {**huge, "X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
            assert _raw_call(port, right).startswith("HTTP/1.1 413")
            with httpx.Client(timeout=10) as client:
                url = f"http://127.0.0.1:{port}/telegram-hook"

                def post(body: object, secret: str = HOOK_SECRET) -> int:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                    return client.post(url, json=body, headers=headers).status_code

                assert (
                    post(
                        api.text_update(VOTER, "Texte-secret-du-corps"),
                        "wrong-SECRET-value-987654",
                    )
                    == 403
                )
                ids = api._update_ids  # Telegram's: stored, then set aside by the worker
                for raw in ({"update_id": next(ids), "message": "x"}, {"update_id": next(ids)}):
                    assert post(raw) == 200
                assert post([1, 2]) == 200  # not an update at all: acknowledged, dropped
                assert post(api.text_update(VOTER, "/start")) == 200
                api.wait_for(lambda: len(api.sent(VOTER)) == 1, timeout=15)
                assert post(api.text_update(VOTER, BODIES[1])) == 200
                api.wait_for(lambda: len(api.sent(VOTER)) >= 2, timeout=15)
        finally:
            proc.send_signal(signal.SIGINT)
            logs = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, logs
    for leak in (
        "wrong-SECRET-value-987654",
        HOOK_SECRET,
        "Texte-secret-du-corps",
        "Texte-du-corps-accepte",
        TOKEN,
    ):
        assert leak not in logs, leak


async def test_a_flood_during_a_handoff_reaches_staff_at_most_five_times_a_minute(
    staffed: Chat,
) -> None:
    await _ask_for_a_person(staffed, "message 0")
    for n in range(1, 30):
        await staffed.say(f"message {n}")
    relayed = [t for t in _topic_texts(staffed.api) if t.startswith("👤 message")]
    assert len(relayed) == 5  # RELAY_BURST per RELAY_WINDOW
    assert sum("patientez" in t.lower() for t in staffed.texts()) == 1  # one "please wait", not 25
