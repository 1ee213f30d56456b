"""Roll look-ups in chat, through the real `Application.process_update`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.election import load_election
from bot.flows import Context
from bot.roll import import_roll
from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application
from tests.conftest import ACTIVATION_NOW, Chat, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.inprocess import FakeRequest
from tests.fakes.roll_csv import ROWS, write

LIMIT = 3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, VOTEBOT_ROLL_LOOKUPS_PER_HOUR=str(LIMIT))


@pytest.fixture
async def roll_chat(chat: Chat, tmp_path: Path) -> Chat:
    services = chat.app.bot_data.services
    await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    await chat.say("/menu")
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    assert "nom et son prénom" in chat.last["text"]
    return chat


async def test_a_colleague_on_the_roll_is_confirmed_for_the_guides_ballot_only(
    roll_chat: Chat,
) -> None:
    await roll_chat.say("lefevre anne sophie")
    text = roll_chat.last["text"]
    assert (
        "figure sur la liste électorale du scrutin <b>« CSA de proximité de Créteil »</b>" in text
    )
    assert "LEFÈVRE" not in text and "lefevre" not in text  # the name is not repeated
    assert "Collège" not in text and "93" not in text  # no establishment, no département
    assert "portail élections" in text  # the official check
    await roll_chat.say("Laetitia Martin")
    assert "CAP des AESH" not in roll_chat.last["text"]  # never someone's other ballots


async def test_the_name_typed_is_kept_nowhere_in_the_conversation(roll_chat: Chat) -> None:
    store = roll_chat.app.bot_data.services.store
    await roll_chat.say("Oeuvrard Cécile")
    assert "figure sur la liste" in roll_chat.last["text"]
    await roll_chat.say("Dupont Marie")
    conv = await store.load_conversation(roll_chat.user_id)
    assert conv is not None
    assert "Oeuvrard" not in str(conv.data) and "Dupont" not in str(conv.data)
    update = await roll_chat.say("Awa Ndiaye")
    seen = await store.processed_update(update["update_id"])
    assert seen is not None and seen.replied and seen.replies == []  # purged once delivered
    lines = await store.transcript(roll_chat.user_id, 50)
    assert lines and not any("Oeuvrard" in x.text or "Dupont" in x.text for x in lines)


async def test_a_surname_alone_asks_for_the_first_name(roll_chat: Chat) -> None:
    await roll_chat.say("Lefèvre")
    assert "nom et le prénom" in roll_chat.last["text"]
    await roll_chat.say("Anne-Sophie Lefèvre")
    assert "figure sur la liste" in roll_chat.last["text"]


async def test_not_found_says_so_and_asks_where_to_report(roll_chat: Chat) -> None:
    await roll_chat.say("Dupont Marie")
    text = roll_chat.last["text"]
    assert "Je ne trouve pas" in text and "Dupont" not in text and "orthographe" in text
    await roll_chat.press("Où signaler")
    await roll_chat.press("AESH")
    await roll_chat.press("Val-de-Marne")
    assert "electionspro-aesh94@ac-creteil.fr" in roll_chat.last["text"]


async def test_not_found_gives_the_address_when_the_question_says_the_category(
    roll_chat: Chat,
) -> None:
    await roll_chat.say("Marie Dupont, AESH du 93")
    assert "electionspro-aesh93@ac-creteil.fr" in roll_chat.last["text"]
    await roll_chat.say("Paul Durand, CPE")
    assert "electionspro-2nddegre@ac-creteil.fr" in roll_chat.last["text"]


async def test_a_misspelt_name_is_not_found_and_no_other_name_is_suggested(
    roll_chat: Chat,
) -> None:
    await roll_chat.say("Lefevr Anne-Sophie")
    text = roll_chat.last["text"]
    assert "Je ne trouve pas" in text
    assert "LEFÈVRE" not in text and "Vouliez-vous" not in text
    assert not any(
        "Oui" in b["text"] for r in roll_chat.last["reply_markup"]["inline_keyboard"] for b in r
    )


async def test_lookups_are_rate_limited_and_audited(roll_chat: Chat) -> None:
    store = roll_chat.app.bot_data.services.store
    for name in ("Awa Ndiaye", "Inconnu Paul", "Cécile Oeuvrard"):
        await roll_chat.say(name)
    assert "figure sur la liste" in roll_chat.last["text"]
    await roll_chat.say("Jean de La Fontaine")
    text = roll_chat.last["text"]
    assert f"{LIMIT} vérifications en une heure" in text and "60 minutes" in text
    assert "Fontaine" not in text and "CSA de proximité de Créteil" in text
    logged = await store.roll_lookups_since(roll_chat.user_id, ACTIVATION_NOW)
    assert len(logged) == LIMIT  # the refused one is not a look-up
    stats = await store.roll_stats(ACTIVATION_NOW)
    assert (stats.lookups, stats.lookups_found) == (LIMIT, 2)
    other = Chat(roll_chat.app, roll_chat.api, user_id=2002)  # the limit is per user
    await other.say("/menu")
    await other.press("Liste électorale")
    await other.press("Vérifier un·e collègue")
    await other.say("Jean de La Fontaine")
    assert "figure sur la liste" in other.last["text"]


async def test_before_any_import_the_bot_points_to_the_portal(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    await chat.say("Lefèvre Anne-Sophie")
    assert "pas encore chargée" in chat.last["text"]


async def test_the_router_entry_point_looks_up_the_name_of_a_question(app, tmp_path) -> None:
    services = app.bot_data.services
    await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    ctx = Context(now=ACTIVATION_NOW, phase="activation", data={}, user_id=7)
    question = "est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?"
    assert await services.roll.entry(question, ctx) == "roll.found"
    assert ctx.data["roll_found"] == {"ballot": "CSA de proximité de Créteil"}
    assert "Lef" not in str(ctx.data)
    assert await services.roll.entry("est-ce qu'elle est inscrite ?", ctx) is None


async def test_the_guide_explanation_leads_to_a_check_or_to_the_address(chat: Chat) -> None:
    services = chat.app.bot_data.services
    services.engine.commands["liste"] = "roll.how"  # as the intent router would jump there
    await chat.say("/menu")
    await chat.say("/liste")
    assert "CSA de proximité de Créteil" in chat.last["text"]
    await chat.press("n'y figure pas")
    await chat.press("Trouver l'adresse")
    await chat.press("ATSS")
    assert "electionspro-atss@ac-creteil.fr" in chat.last["text"]


async def test_one_user_hitting_the_limit_again_and_again_is_noted_for_support(
    roll_chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    store = roll_chat.app.bot_data.services.store
    for _ in range(LIMIT):
        await roll_chat.say("Inconnu Paul")
    with caplog.at_level("WARNING", logger="bot.roll"):
        for _ in range(3):
            await roll_chat.say("Inconnu Paul")
            assert "vérifications en une heure" in roll_chat.last["text"]
    assert [r.getMessage() for r in caplog.records if r.name == "bot.roll"] == [
        f"roll: user {roll_chat.user_id} keeps hitting the look-up limit (3 refusals today)"
    ]
    stats = await store.roll_stats(ACTIVATION_NOW)
    assert stats.refused == ((roll_chat.user_id, 3),)


async def test_a_global_daily_cap_protects_the_roll_from_many_accounts(
    app, api, tmp_path: Path
) -> None:
    services = app.bot_data.services
    services.roll.per_day = 2
    await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    for user_id in (3001, 3002, 3003):
        chat = Chat(app, api, user_id=user_id)
        await chat.say("/menu")
        await chat.press("Liste électorale")
        await chat.press("Vérifier un·e collègue")
        await chat.say("Awa Ndiaye")
    assert "figure sur la liste" not in chat.last["text"]
    assert "Trop de vérifications ont été faites aujourd'hui" in chat.last["text"]


async def test_support_gets_a_note_in_the_staff_group(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, VOTEBOT_ROLL_LOOKUPS_PER_HOUR="1", VOTEBOT_SUPPORT_CHAT="-1009999"
    )
    election = load_election("creteil-2022")
    services = await Services.open(settings, election)
    api = FakeBotAPI()
    app = build_application(settings, election, services, request=FakeRequest(api))
    await app.initialize()
    await app.post_init(app)
    try:
        await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
        chat = Chat(app, api)
        await chat.say("/menu")
        await chat.press("Liste électorale")
        await chat.press("Vérifier un·e collègue")
        for _ in range(4):
            await chat.say("Inconnu Paul")
        await asyncio.sleep(0.05)
        notes = [c.params["text"] for c in api.sent(-1009999)]
        assert len(notes) == 1 and "1001" in notes[0] and "3 fois" in notes[0]
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
        await services.close()
