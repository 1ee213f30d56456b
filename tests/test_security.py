"""Security: staff commands refused to voters, secrets kept out of logs and the database,
SQL injection inert — through the real Application on the in-process fake Bot API."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows import default_flows
from bot.logs import NOISY, configure_logging
from store import Conversation, StepCommit
from tests.conftest import ACTIVATION_NOW, TOKEN, Chat, Served

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
    services = chat.app.bot_data["services"]
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
    services = chat.app.bot_data["services"]
    await services.store.grant_role(VOTER, "support", 42, ACTIVATION_NOW)
    await chat.say("/role add 1001 broadcaster")
    assert "Je ne connais pas la commande /role" in chat.texts()[-2]
    assert await services.store.roles_of(VOTER) == frozenset({"support"})


async def test_forged_staff_buttons_are_refused(chat: Chat) -> None:
    services = chat.app.bot_data["services"]
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


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_button_data_matching_staff_handlers_is_refused(app: Application, data) -> None:
    # Today no button handler is restricted by a pattern; staff buttons added later (with
    # @requires) are fuzzed here from their own patterns.
    for pattern in staff_callback_patterns(app):
        value = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= 64))
        assert isinstance(value, str)


def _database_text(chat: Chat) -> str:
    path = chat.app.bot_data["services"].settings.db_path
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
    store = chat.app.bot_data["services"].store
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
    services = chat.app.bot_data["services"]
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
