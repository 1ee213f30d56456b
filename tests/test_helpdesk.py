"""The helpdesk in the staff group, as two agents and a voter meet it (issue 14)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, CallbackContext

from bot.election import Election
from bot.services import Services
from bot.settings import Settings
from bot.stats import collect_stats
from bot.telegram import helpdesk
from bot.telegram.app import build_application
from tests.conftest import ACTIVATION_NOW, Chat, make_settings
from tests.fakes.botapi import FakeBotAPI, button_data
from tests.fakes.inprocess import FakeRequest

SUPPORT_CHAT = -1001234567890
JULIEN, SARAH = 77, 78  # support agents
VOTER = 4242001


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, VOTEBOT_SUPPORT_CHAT=str(SUPPORT_CHAT), VOTEBOT_SUPPORT_ALERT_MINUTES="10"
    )


@pytest.fixture
async def app(
    settings: Settings, election: Election, services: Services, api: FakeBotAPI
) -> AsyncIterator[Application]:
    for agent in (JULIEN, SARAH):
        await services.store.grant_role(agent, "support", 42, ACTIVATION_NOW)
    application = build_application(settings, election, services, request=FakeRequest(api))
    await application.initialize()
    yield application
    await application.shutdown()
    assert api.errors == [], api.errors


@pytest.fixture
def voter(app: Application, api: FakeBotAPI) -> Chat:
    return Chat(app, api, VOTER)


def in_topic(api: FakeBotAPI, thread: int | None) -> list[str]:
    return [
        c.params["text"]
        for c in api.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == SUPPORT_CHAT
        and c.params.get("message_thread_id") == thread
    ]


def to_voter(api: FakeBotAPI) -> list[str]:
    return [c.params["text"] for c in api.sent(VOTER)]


async def agent_says(voter: Chat, agent: int, text: str, thread: int | None) -> None:
    names = {JULIEN: "Julien", SARAH: "Sarah"}
    update = voter.api.topic_update(SUPPORT_CHAT, agent, thread, text, first_name=names[agent])
    await voter.feed(update)


async def handed_over(voter: Chat, text: str = "Bonjour, le captcha ne marche pas") -> int:
    await voter.say("/menu")
    await voter.press("Parler à quelqu'un")
    await voter.say(text)
    return list(voter.api.topics[SUPPORT_CHAT])[-1]  # the newest topic


def card(api: FakeBotAPI, thread: int) -> dict[str, Any]:
    messages = [
        m
        for (c, _), m in api.messages.items()
        if c == SUPPORT_CHAT and m.get("message_thread_id") == thread
    ]
    return min(messages, key=lambda m: m["message_id"])


def press(api: FakeBotAPI, agent: int, message: dict[str, Any], label: str) -> dict[str, Any]:
    update = api.press_update(agent, message, button_data(message, label))
    update["callback_query"]["from"]["first_name"] = {JULIEN: "Julien", SARAH: "Sarah"}[agent]
    return update


async def test_two_agents_claiming_at_once_one_wins_and_the_voter_is_told_once(
    app: Application, voter: Chat, api: FakeBotAPI
) -> None:
    thread = await handed_over(voter)
    first = card(api, thread)
    assert "Prendre en charge" in str(first["reply_markup"])
    updates = [press(api, agent, first, "Prendre en charge") for agent in (JULIEN, SARAH)]
    await asyncio.gather(*(app.process_update(Update.de_json(u, app.bot)) for u in updates))
    told = [t for t in to_voter(api) if "s'occupe de vous" in t.replace("&#39;", "'")]
    assert len(told) == 1
    answers = [c.params.get("text", "") for c in api.calls if c.method == "answerCallbackQuery"]
    assert sum("Déjà pris en charge par" in a for a in answers) == 1
    winner = "Julien" if "Julien" in told[0] else "Sarah"
    assert winner in api.topics[SUPPORT_CHAT][thread]["name"]
    assert any(f"<b>{winner}</b> prend en charge" in t for t in in_topic(api, thread))
    updated = api.messages[(SUPPORT_CHAT, first["message_id"])]
    assert f"Pris en charge par <b>{winner}</b>" in updated["text"]
    assert not updated.get("reply_markup")


async def test_a_second_agent_sees_who_has_the_chat_and_notes_never_reach_the_voter(
    voter: Chat, api: FakeBotAPI
) -> None:
    thread = await handed_over(voter)
    await agent_says(voter, JULIEN, "Bonjour, je regarde ça", thread)
    assert "je regarde ça" in to_voter(api)[-1]
    before = len(to_voter(api))
    await agent_says(voter, SARAH, "@Julien tu peux prendre celui-là ?", thread)
    assert "prise en charge par <b>Julien</b>" in in_topic(api, thread)[-1]
    await agent_says(voter, JULIEN, "# il a déjà essayé deux navigateurs", thread)
    await agent_says(voter, SARAH, "/note vérifier sa boîte pleine", thread)
    assert len(to_voter(api)) == before  # nothing of this reached the voter
    await agent_says(voter, SARAH, "/voir", thread)
    shown = in_topic(api, thread)[-1]
    assert "Camille" in shown and "📝" in shown and "deux navigateurs" in shown
    # Hand-over: Julien lets go, Sarah answers and has it.
    await agent_says(voter, JULIEN, "/liberer", thread)
    await agent_says(voter, SARAH, "Je prends la suite", thread)
    assert "Je prends la suite" in to_voter(api)[-1]
    assert "Sarah" in api.topics[SUPPORT_CHAT][thread]["name"]


async def test_the_card_shows_where_the_voter_was_stuck_with_labels_in_paris_time(
    voter: Chat, api: FakeBotAPI
) -> None:
    await voter.say("/menu")
    await voter.say("le captcha ne marche pas")
    await voter.say("/menu")
    await voter.press("Parler à quelqu'un")
    await voter.say("toujours pas")
    (thread,) = api.topics[SUPPORT_CHAT]
    text = card(api, thread)["text"]
    assert "Créer mon espace électeur" in text and "captcha" in text.lower()
    assert "human.requested" not in text and "portal.captcha_help" not in text
    assert "10:00" in text  # ACTIVATION_NOW is 10:00 in Paris (09:00 UTC)


async def test_canned_answer_sends_the_bots_own_card(voter: Chat, api: FakeBotAPI) -> None:
    thread = await handed_over(voter)
    await agent_says(voter, JULIEN, "/reponse", thread)
    assert "captcha" in in_topic(api, thread)[-1]
    await agent_says(voter, JULIEN, "/reponse captcha", thread)
    assert "captcha" in to_voter(api)[-1].lower()
    assert "envoyée" in in_topic(api, thread)[-1]


async def test_the_queue_puts_unanswered_voters_first_and_the_group_is_alerted(
    app: Application, services: Services, api: FakeBotAPI
) -> None:
    alice, bob = Chat(app, api, 5001), Chat(app, api, 5002)
    thread_a = await handed_over(alice)
    await agent_says(alice, JULIEN, "Bonjour Alice", thread_a)
    await bob.say("/menu")
    await bob.press("Parler à quelqu'un")
    await bob.say("allô ?")
    staff = Chat(app, api, JULIEN)
    await staff.feed(api.topic_update(SUPPORT_CHAT, JULIEN, None, "/file"))
    queue = in_topic(api, None)[-1]
    assert queue.index("5002") < queue.index("5001")
    assert "attend depuis" in queue and "répondu" in queue
    later = ACTIVATION_NOW + timedelta(minutes=11)
    services.clock.fixed = later
    await helpdesk.alert_job(CallbackContext(app))
    alert = in_topic(api, None)[-1]
    assert "5002" in alert and "11 min" in alert and "5001" not in alert
    await helpdesk.alert_job(CallbackContext(app))
    assert in_topic(api, None)[-1] == alert  # once per wait, not every minute


async def test_a_blocked_voter_is_shown_unreachable(voter: Chat, api: FakeBotAPI) -> None:
    thread = await handed_over(voter)
    api.blocked = {VOTER}
    await agent_says(voter, JULIEN, "Vous êtes là ?", thread)
    assert "injoignable" in in_topic(api, thread)[-1]
    await agent_says(voter, JULIEN, "/file", None)
    assert "injoignable" in in_topic(api, None)[-1]


async def test_messages_over_the_limit_are_held_then_delivered(
    app: Application, voter: Chat, api: FakeBotAPI
) -> None:
    app.bot_data.relay_hold.hold_seconds = 0.05
    thread = await handed_over(voter, "message 0")
    for i in range(1, 8):
        await voter.say(f"message {i}")
    for _ in range(50):
        if any("transmis ensemble" in t for t in in_topic(api, thread)):
            break
        await asyncio.sleep(0.02)
    everything = "\n".join(in_topic(api, thread))
    assert all(f"message {i}" in everything for i in range(8))
    assert sum("patientez" in t.lower() for t in to_voter(api)) == 1


async def test_long_staff_replies_are_split_not_cut(voter: Chat, api: FakeBotAPI) -> None:
    thread = await handed_over(voter)
    long = " ".join(f"mot{i}" for i in range(1200))  # about 8,000 characters
    await agent_says(voter, JULIEN, long, thread)
    parts = [t for t in to_voter(api) if t.startswith("<b>💬 Support")]
    assert len(parts) >= 3
    assert "mot0 " in parts[0] and "mot1199" in parts[-1]


async def test_staff_help_and_the_group_command_menu(app: Application, api: FakeBotAPI) -> None:
    staff = Chat(app, api, JULIEN)
    await staff.feed(api.topic_update(SUPPORT_CHAT, JULIEN, None, "/aide"))
    help_text = in_topic(api, None)[-1]
    for command in ("/file", "/note", "/reponse", "/liberer", "/fermer", "/voir"):
        assert command in help_text
    await app.post_init(app)  # type: ignore[misc]
    worker = app.bot_data.broadcaster
    assert worker is not None
    await worker.stop()
    scoped = [c.params for c in api.calls if c.method == "setMyCommands" and "scope" in c.params]
    assert scoped and scoped[-1]["scope"]["chat_id"] == SUPPORT_CHAT
    assert {"file", "note", "reponse"} <= {c["command"] for c in scoped[-1]["commands"]}


async def test_after_fermer_the_voter_rates_with_one_tap_and_may_comment(
    app: Application, voter: Chat, services: Services, api: FakeBotAPI
) -> None:
    thread = await handed_over(voter)
    await agent_says(voter, JULIEN, "Videz votre boîte mail", thread)
    await agent_says(voter, JULIEN, "/fermer", thread)
    question = next(
        m for (c, _), m in sorted(api.messages.items()) if c == VOTER and "utile" in m["text"]
    )
    down = api.press_update(VOTER, question, button_data(question, "👎"))
    await voter.press("👍", message=question)
    assert "Merci" in api.messages[(VOTER, question["message_id"])]["text"]
    await voter.feed(down)  # a second tap changes nothing
    await voter.say("très rapide, merci")
    assert "commentaire" in to_voter(api)[-1]
    await voter.say("comment je vote ?")  # the next message is a question again
    assert "commentaire" not in to_voter(api)[-1]
    # After a rating, a command means "no comment": the text after it goes to the assistant.
    thread = await handed_over(voter, "encore une question")
    await agent_says(voter, JULIEN, "/fermer", thread)
    again = next(
        m
        for (c, _), m in sorted(api.messages.items(), reverse=True)
        if c == VOTER and "utile" in m["text"]
    )
    await voter.press("👎", message=again)
    await voter.say("/menu")
    await voter.say("mot de passe oublié")
    assert "commentaire" not in to_voter(api)[-1] and "commentaire" not in to_voter(api)[-2]
    (agent,) = await services.store.agent_times()
    assert (agent.agent_name, agent.up, agent.down) == ("Julien", 1, 0)  # 2nd: nobody's
    assert len(agent.first_response) == 1 and len(agent.resolution) == 1


async def test_stats_chart_is_the_guide_funnel_readable_on_a_phone(
    app: Application, voter: Chat, services: Services, api: FakeBotAPI
) -> None:
    await voter.say("/profil")  # a settings flow: no completion rate for it
    thread = await handed_over(voter)
    await agent_says(voter, JULIEN, "Bonjour", thread)
    await agent_says(voter, JULIEN, "/fermer", thread)
    await agent_says(voter, JULIEN, "/stats", None)
    texts = in_topic(api, None)
    assert "profile :" not in texts[-2] and "reminders :" not in texts[-2]
    assert "Julien — 1 conv." in texts[-1]
    png = api.photos[-1]
    width, height = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))
    assert width == 1280 and height <= 1280  # never scaled down by Telegram
    stats = await collect_stats(services)
    assert len(stats.guide) <= 12 and stats.guide[0] == ("started", 1)


def test_cli_stats_in_a_pipe_and_as_csv(tmp_path: Path, settings: Settings) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "VOTEBOT_DB": str(settings.db_path), "TELEGRAM_BOT_TOKEN": ""}
    run = subprocess.run(
        f"{sys.executable} -m bot stats --csv | head -1",
        shell=True,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout == "flow,step,reached,here_now\n" and "Traceback" not in run.stderr
    closed = subprocess.run(  # the reader is gone before the first line is written
        f"{sys.executable} -m bot stats | true",
        shell=True,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "BrokenPipe" not in closed.stderr and "Exception ignored" not in closed.stderr
    full = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--csv"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "guide,voted,0," in full and "agent,handled,first_response_s" in full


async def test_voir_by_first_name_and_bloques_counts_everyone(
    app: Application, services: Services, api: FakeBotAPI
) -> None:
    from store import Conversation, StepCommit

    long_ago = ACTIVATION_NOW - timedelta(days=5)
    for uid in range(1, 10):
        name = "Anne-Lise" if uid == 3 else f"Voter{uid}"
        await services.store.commit_step(
            StepCommit(Conversation(uid, "webmel", "enter_numen"), first_name=name), long_ago
        )
    staff = Chat(app, api, JULIEN)
    await staff.say("/voir anne")
    assert "<b>Anne-Lise</b>" in staff.texts()[-1]
    await staff.say("/voir voter")
    assert "Plusieurs personnes" in staff.texts()[-1] and "/voir 9" in staff.texts()[-1]
    await staff.say("/bloques")
    listing = staff.texts()[-1]
    assert "Personnes bloquées : 9" in listing and "les 6 plus anciennes" in listing
    assert "webmel.enter_numen" not in listing and "Mon adresse académique" in listing


async def test_taking_over_a_voter_who_blocked_the_bot_says_so(
    app: Application, services: Services, api: FakeBotAPI
) -> None:
    from store import Conversation, StepCommit

    long_ago = ACTIVATION_NOW - timedelta(days=5)
    await services.store.commit_step(
        StepCommit(Conversation(VOTER, "webmel", "enter_numen"), first_name="Camille"), long_ago
    )
    api.blocked = {VOTER}
    staff = Chat(app, api, JULIEN)
    await staff.say("/bloques")
    await staff.press("Camille")
    assert "injoignable" in staff.texts()[-1] and "ouverte dans" not in staff.texts()[-1]
