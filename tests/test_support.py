"""Support handoff through the real Application and a fake Bot API that knows forum topics."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.election import Election, load_election
from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application
from store import Conversation, StepCommit, TransitionEvent
from store.support import TranscriptLine
from tests.conftest import ACTIVATION_NOW, TOKEN, Chat, make_settings, votebot_cli
from tests.fakes.botapi import PHOTO, FakeBotAPI
from tests.fakes.inprocess import FakeRequest

SUPPORT_CHAT = -1001234567890
OTHER_GROUP = -1009999999999
STAFF = 77  # granted the support role in the fixture
OUTSIDER = 88
VOTER = 4242001  # an id that cannot collide with update or message ids


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, VOTEBOT_SUPPORT_CHAT=str(SUPPORT_CHAT))


@pytest.fixture
async def app(
    settings: Settings, election: Election, services: Services, api: FakeBotAPI
) -> AsyncIterator[Application]:
    await services.store.grant_role(STAFF, "support", 42, ACTIVATION_NOW)
    application = build_application(settings, election, services, request=FakeRequest(api))
    await application.initialize()
    yield application
    await application.shutdown()
    assert api.errors == [], api.errors


@pytest.fixture
def voter(app: Application, api: FakeBotAPI) -> Chat:
    return Chat(app, api, VOTER)


def topics(api: FakeBotAPI) -> list[int]:
    return [t for t in api.topics.get(SUPPORT_CHAT, {})]


def in_thread(api: FakeBotAPI, thread: int) -> list[str]:
    return [
        c.params["text"]
        for c in api.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == SUPPORT_CHAT
        and c.params.get("message_thread_id") == thread
    ]


async def staff_says(voter: Chat, text: str, thread: int | None, user_id: int = STAFF) -> None:
    await voter.feed(voter.api.topic_update(SUPPORT_CHAT, user_id, thread, text))


async def ask_for_a_person(voter: Chat) -> None:
    await voter.say("/menu")
    await voter.press("Parler à quelqu'un")


def rows_mentioning(db: Path, needle: object) -> dict[str, int]:
    """Every table and column holding `needle` (exactly, or inside text such as JSON)."""
    found: dict[str, int] = {}
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for col in [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]:
                (n,) = conn.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE {col} = ? OR CAST({col} AS TEXT) LIKE ?",
                    (needle, f"%{needle}%"),
                ).fetchone()
                if n:
                    found[f"{table}.{col}"] = n
    return found


# -- handoff -------------------------------------------------------------------------------


async def test_topic_opens_only_once_the_voter_writes_with_a_summary_card(
    voter: Chat, api: FakeBotAPI
) -> None:
    await ask_for_a_person(voter)
    assert "va vous répondre ici" in voter.texts()[-1]
    assert topics(api) == []  # buttons only: no topic yet
    replies_before = len(voter.texts())

    await voter.say("Bonjour, mon adresse webmel ne marche pas")
    (thread,) = topics(api)
    card, relayed = in_thread(api, thread)
    assert "Camille" in card and str(VOTER) in card and "Parler à quelqu" in card
    assert "human.requested" not in card  # labels, not codes
    assert "⬜ identifiant" in card and "mon adresse webmel ne marche pas" in card
    assert "mon adresse webmel ne marche pas" in relayed
    assert len(voter.texts()) == replies_before  # the bot stays quiet

    await voter.say("Vous êtes là ?")
    assert topics(api) == [thread]  # at most one topic per voter
    assert "Vous êtes là ?" in in_thread(api, thread)[-1]


async def test_a_voter_who_already_typed_gets_the_topic_at_once(
    voter: Chat, api: FakeBotAPI
) -> None:
    await voter.say("/menu")
    await voter.say("je comprends rien à ce truc")
    await voter.press("Parler à quelqu'un")
    (thread,) = topics(api)
    assert "je comprends rien" in in_thread(api, thread)[0]


async def test_staff_replies_are_relayed_signed_support(voter: Chat, api: FakeBotAPI) -> None:
    await ask_for_a_person(voter)
    await voter.say("J'ai perdu mon code")
    (thread,) = topics(api)
    await staff_says(voter, "Bonjour ! Regardez dans vos courriels <reçus>.", thread)
    text = voter.texts()[-1]
    assert text.startswith("<b>💬 Support</b>") and "Dom" not in text
    assert "&lt;reçus&gt;" in text
    store = voter.app.bot_data.services.store
    assert [x.direction for x in await store.transcript(VOTER, 2)] == ["in", "staff"]


async def test_fermer_hands_the_voter_back_and_tells_both_sides(
    voter: Chat, api: FakeBotAPI
) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour")
    (thread,) = topics(api)
    await staff_says(voter, "/fermer", thread)
    assert "terminée" in voter.texts()[-3] and "<b>Menu</b>" in voter.texts()[-1]
    assert "utile" in voter.texts()[-2]  # the one-tap satisfaction question
    assert "Sujet fermé" in in_thread(api, thread)[-1]
    assert api.topics[SUPPORT_CHAT][thread]["closed"]
    relayed = len(in_thread(api, thread))
    await voter.say("blabla zzz")
    assert len(in_thread(api, thread)) == relayed  # back with the bot: not relayed
    assert "pas bien compris" in voter.texts()[-1]


async def test_the_voters_menu_hands_back_too(voter: Chat, api: FakeBotAPI) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour")
    (thread,) = topics(api)
    await voter.say("/menu")
    assert "terminée" in voter.texts()[-2] and "<b>Menu</b>" in voter.texts()[-1]
    assert "/menu" in in_thread(api, thread)[-1]


async def test_a_deleted_topic_is_recreated_with_the_card(voter: Chat, api: FakeBotAPI) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour")
    (first,) = topics(api)
    api.delete_topic(SUPPORT_CHAT, first)
    await voter.say("Il y a quelqu'un ?")
    (second,) = topics(api)
    assert second != first
    card, relayed = in_thread(api, second)
    assert "Camille" in card and "Il y a quelqu" in relayed
    await staff_says(voter, "Oui, je suis là", second)
    assert "Oui, je suis là" in voter.texts()[-1]


async def test_outsiders_and_other_groups_are_ignored(voter: Chat, api: FakeBotAPI) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour")
    (thread,) = topics(api)
    calls = len(api.calls)
    await staff_says(voter, "je me fais passer pour le support", thread, user_id=OUTSIDER)
    await staff_says(voter, "/fermer", thread, user_id=OUTSIDER)
    await staff_says(voter, "/stats", None, user_id=OUTSIDER)
    assert len(api.calls) == calls  # not a single call: ignored
    await voter.feed(api.topic_update(OTHER_GROUP, STAFF, 5, "/stats"))
    await voter.feed(api.topic_update(OTHER_GROUP, STAFF, 5, "bonjour"))
    assert not [c for c in api.calls[calls:] if c.method == "sendPhoto"]
    assert not [c for c in api.calls[calls:] if int(c.params.get("chat_id", 0)) == VOTER]
    store = voter.app.bot_data.services.store
    assert (await store.open_handoff_of(VOTER)) is not None


async def test_relay_is_rate_limited_and_a_banned_voter_is_no_longer_relayed(
    voter: Chat, api: FakeBotAPI
) -> None:
    await ask_for_a_person(voter)
    for i in range(7):
        await voter.say(f"message {i}")
    (thread,) = topics(api)
    relayed = [t for t in in_thread(api, thread) if t.startswith("👤")]
    assert len(relayed) == 5
    assert sum("patientez" in t.lower() for t in voter.texts()) == 1
    await staff_says(voter, "/bannir", thread)
    assert "bloquée" in in_thread(api, thread)[-1]
    before = len(in_thread(api, thread))
    await voter.say("/menu")
    await voter.press("Parler à quelqu'un")
    assert "pas joignable" in voter.texts()[-1]
    await voter.say("encore moi")
    assert len(in_thread(api, thread)) == before and topics(api) == [thread]


# -- monitoring ----------------------------------------------------------------------------


async def _seed(services: Services) -> None:
    """Five voters with known steps; two handoffs closed in 10 and 30 minutes, one open."""
    store, now = services.store, ACTIVATION_NOW
    long_ago = now - timedelta(hours=72)

    async def voter(uid: int, path: list[str], at, name: str = "") -> None:
        events = tuple(
            TransitionEvent(uid, at, "webmel", a, b, "t") for a, b in itertools.pairwise(path)
        )
        first = (TransitionEvent(uid, at, "webmel", "menu.main", path[0], "webmel"),)
        await store.commit_step(
            StepCommit(Conversation(uid, "webmel", path[-1]), first + events, first_name=name),
            at,
        )

    await voter(1, ["has_address", "open_webmel", "enter_numen"], long_ago, "Alix")  # stuck
    await voter(2, ["has_address", "done"], now, "Bea")  # completed
    await voter(3, ["has_address", "open_webmel", "enter_numen"], now, "Chloé")  # busy
    await voter(4, ["has_address"], long_ago, "Dan")  # stuck but voted
    await voter(5, ["has_address"], long_ago, "Eve")  # stuck but with a person
    await store.commit_step(
        StepCommit(Conversation(4, "webmel", "has_address"), progress_done=frozenset({"voted"})),
        long_ago,
    )
    await store.record_messages(
        [TranscriptLine(3, now, "in", f"blabla {i}", misunderstood=True) for i in range(3)]
    )
    for uid, minutes in ((1, 10), (2, 30)):
        handoff = await store.open_handoff(uid, now - timedelta(hours=5))
        await store.close_handoff(handoff.id, now - timedelta(hours=5, minutes=-minutes), STAFF)
    await store.open_handoff(5, now)


async def test_stats_match_a_seeded_store_with_a_phone_sized_chart(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await _seed(services)
    staff = Chat(app, api, STAFF)
    await staff.say("/stats")
    text = staff.texts()[-1]
    assert "5 personnes" in text
    assert (
        "webmel : 5 → 1 (20 %)" in text
        and "abandon surtout à <code>has_address</code> (2)" in text
    )
    assert "Mon adresse académique ›" in text and "webmel.enter_numen" not in text
    assert "1 ouvertes, 2 fermées, fermées en 20 min (médiane)" in text
    (photo,) = [c for c in api.calls if c.method == "sendPhoto"]
    assert photo.params["chat_id"] == STAFF and "Entonnoir" in photo.params["caption"]
    png = api.photos[-1]
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") >= 900  # wide


async def test_stats_in_the_staff_group_answer_in_the_topic(voter: Chat, api: FakeBotAPI) -> None:
    await staff_says(voter, "/stats", None)
    assert [c.method for c in api.calls if c.method == "sendPhoto"] == ["sendPhoto"]
    assert "Statistiques" in [c for c in api.calls if c.method == "sendMessage"][-1].params["text"]


async def test_a_voter_asking_for_stats_gets_the_unknown_command_answer(voter: Chat) -> None:
    await voter.say("/stats")
    assert "Je ne connais pas la commande /stats" in voter.texts()[-2]


async def test_bloques_lists_stuck_and_misunderstood_voters_with_a_take_over_button(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await _seed(services)
    staff = Chat(app, api, STAFF)
    await staff.say("/bloques")
    text = staff.texts()[-1]
    assert "Alix" in text and "Chloé" in text and "3 incompris" in text
    assert "Bea" not in text and "Dan" not in text and "Eve" not in text
    await staff.press("Alix")
    (thread,) = topics(api)
    assert (
        "Alix" in in_thread(api, thread)[0]
        and "ouvert par le support" in (in_thread(api, thread)[0])
    )
    assert "souhaite vous aider" in [c.params["text"] for c in api.sent(1)][-1]
    assert "ouverte" in staff.texts()[-1]


async def test_voir_shows_a_voters_summary_and_transcript(voter: Chat, api: FakeBotAPI) -> None:
    await voter.say("/menu")
    await voter.say("mon NUMEN est perdu")
    staff = Chat(voter.app, api, STAFF)
    await staff.say(f"/voir {VOTER}")
    text = staff.texts()[-1]
    assert "Camille" in text and "Mon adresse académique › Le NUMEN" in text
    assert "mon NUMEN est perdu" in text
    await staff.say("/voir 999")
    assert "inconnue" in staff.texts()[-1]


def test_cli_stats_prints_the_funnel_and_csv(tmp_path: Path, settings: Settings) -> None:

    async def seed() -> None:
        services = await Services.open(settings, load_election("creteil-2022"))
        try:
            await _seed(services)
        finally:
            await services.close()

    asyncio.run(seed())
    env = {
        **os.environ,
        "VOTEBOT_DB": str(settings.db_path),
        "VOTEBOT_NOW": ACTIVATION_NOW.isoformat(),
    }

    def votebot(*args: str) -> str:
        return votebot_cli(tmp_path, env, "stats", *args).stdout

    assert "webmel,enter_numen,2,2" in votebot("--csv").splitlines()
    table = votebot()
    assert "webmel: 5 started, 1 completed (20 %)" in table
    assert "handoffs: 1 open, 2 closed, median time to close 20 min" in table


# -- retention and erasure -----------------------------------------------------------------


async def test_scheduled_purge_removes_old_transcripts(
    app: Application, voter: Chat, services: Services, settings: Settings
) -> None:
    await voter.say("/menu")
    old = ACTIVATION_NOW - timedelta(days=31)
    await services.store.record_messages([TranscriptLine(VOTER, old, "in", "vieux secret 123")])
    await voter.say("message récent")
    (job,) = [j for j in app.job_queue.jobs() if j.name == "purge"]
    await job.run(app)
    assert rows_mentioning(settings.db_path, "vieux secret") == {}
    assert rows_mentioning(settings.db_path, "message récent") == {"transcripts.text": 1}


async def test_oubli_erases_the_voter_from_every_table_and_closes_the_handoff(
    voter: Chat, api: FakeBotAPI, services: Services, settings: Settings
) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour, aidez-moi")
    (thread,) = topics(api)
    await staff_says(voter, "Bonjour !", thread)
    await services.store.ban_voter(VOTER, STAFF, ACTIVATION_NOW)
    await services.store.grant_role(VOTER, "broadcaster", 42, ACTIVATION_NOW)
    assert len(rows_mentioning(settings.db_path, VOTER)) >= 6
    await voter.say("/oubli")
    await voter.press("Non")
    assert "rien n'est effacé" in voter.texts()[-1]
    assert rows_mentioning(settings.db_path, VOTER) != {}
    await voter.say("/oubli")
    await voter.press("tout effacer")
    assert "tout ce que l'assistant savait de vous est effacé" in voter.texts()[-1]
    assert rows_mentioning(settings.db_path, VOTER) == {"bans.user_id": 1}  # the ban holds
    assert "effacement" in in_thread(api, thread)[-1]
    assert api.topics[SUPPORT_CHAT][thread]["closed"]


async def test_staff_first_name_signs_replies_when_configured(
    voter: Chat, api: FakeBotAPI, services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"support_sign_name": True})
    await ask_for_a_person(voter)
    await voter.say("Bonjour")
    (thread,) = topics(api)
    await staff_says(voter, "Je regarde", thread)
    assert voter.texts()[-1].startswith("<b>💬 Support (Dom)</b>")


async def test_the_offer_after_misunderstandings_can_be_declined(
    voter: Chat, api: FakeBotAPI, services: Services
) -> None:
    await voter.say("/menu")
    services.engine.commands["offre"] = "human.offer"  # the lead's router jumps here
    await voter.say("/offre")
    assert "Voulez-vous échanger avec une personne" in voter.texts()[-1]
    await voter.press("Non, revenir au menu")
    assert "<b>Menu</b>" in voter.texts()[-1]
    assert (await services.store.open_handoff_of(VOTER)) is None
    await voter.say("/offre")
    await voter.press("Oui, parler")
    assert (await services.store.open_handoff_of(VOTER)) is not None


async def test_stats_chart_is_uploaded_over_real_http(
    settings: Settings, election: Election, services: Services
) -> None:
    from tests.fakes.http import FakeBotAPIServer

    await services.store.grant_role(STAFF, "support", 42, ACTIVATION_NOW)
    with FakeBotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        http = settings.model_copy(update={"telegram_api_base_url": server.base_url})
        application = build_application(http, election, services)
        await application.initialize()
        try:
            staff = Chat(application, server.api, STAFF)
            await staff.say("/stats")
        finally:
            await application.shutdown()
    assert server.api.errors == []
    assert server.api.photos and server.api.photos[-1].startswith(b"\x89PNG")


async def test_photos_and_long_texts_are_relayed_both_ways(voter: Chat, api: FakeBotAPI) -> None:
    await ask_for_a_person(voter)
    await voter.say("x" * 4095)
    (thread,) = topics(api)
    assert len(in_thread(api, thread)[-1]) <= 4096
    photo = api.text_update(VOTER, "ignored")
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": "f", "file_unique_id": "u", "width": 10, "height": 10}
    ]
    await voter.feed(photo)
    staff_photo = api.topic_update(SUPPORT_CHAT, STAFF, thread, "ignored")
    del staff_photo["message"]["text"]
    staff_photo["message"]["photo"] = photo["message"]["photo"]
    await voter.feed(staff_photo)
    copies = [
        (c.params["chat_id"], c.params.get("message_thread_id"))
        for c in api.calls
        if c.method == "copyMessage"
    ]
    assert copies == [(SUPPORT_CHAT, thread), (VOTER, None)]


async def test_a_secret_pasted_during_a_handoff_is_deleted_and_never_reaches_staff(
    voter: Chat, api: FakeBotAPI, services: Services
) -> None:
    await ask_for_a_person(voter)
    await voter.say("Bonjour, j'ai un souci")
    (thread,) = topics(api)
    await voter.say("mon numen 24E1701234ABC")
    photo = api.text_update(VOTER, "ignored")
    del photo["message"]["text"]
    photo["message"]["photo"] = PHOTO
    photo["message"]["caption"] = "code X7k#pL9q!"
    await voter.feed(photo)
    assert [c.method for c in api.calls].count("deleteMessage") == 2
    assert "copyMessage" not in [c.method for c in api.calls]
    staff_side = "\n".join(in_thread(api, thread))
    assert "1701234" not in staff_side and "X7k#" not in staff_side
    assert "[secret retiré]" in staff_side
    assert sum("effacé" in t for t in voter.texts()) == 2
    assert rows_mentioning(services.settings.db_path, "1701234") == {}
