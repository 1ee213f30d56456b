"""Roll look-ups in chat, through the real `Application.process_update`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import Context
from bot.roll import import_roll
from bot.settings import Settings
from tests.conftest import ACTIVATION_NOW, Chat, make_settings
from tests.test_roll import ROWS, write

LIMIT = 3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, VOTEBOT_ROLL_LOOKUPS_PER_HOUR=str(LIMIT))


@pytest.fixture
async def roll_chat(chat: Chat, tmp_path: Path) -> Chat:
    services = chat.app.bot_data["services"]
    await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    await chat.say("/menu")
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    assert "nom et son prénom" in chat.last["text"]
    return chat


async def test_a_colleague_on_the_roll_is_found_with_their_ballots(roll_chat: Chat) -> None:
    await roll_chat.say("lefevre anne sophie")
    text = roll_chat.last["text"]
    assert "LEFÈVRE Anne-Sophie" in text and "figure sur la liste" in text
    assert "CSA de proximité de Créteil" in text
    assert "Collège" not in text  # no details beyond the ballots
    await roll_chat.say("Laetitia Martin")
    assert "CAP des AESH" in roll_chat.last["text"]


async def test_a_surname_alone_asks_for_the_first_name(roll_chat: Chat) -> None:
    await roll_chat.say("Lefèvre")
    assert "nom et le prénom" in roll_chat.last["text"]
    await roll_chat.say("Anne-Sophie Lefèvre")
    assert "figure sur la liste" in roll_chat.last["text"]


async def test_not_found_says_so_and_asks_where_to_report(roll_chat: Chat) -> None:
    await roll_chat.say("Dupont Marie")
    text = roll_chat.last["text"]
    assert "Je ne trouve pas" in text and "Dupont Marie" in text and "orthographe" in text
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


async def test_one_typo_offers_one_suggestion(roll_chat: Chat) -> None:
    await roll_chat.say("Lefebvre Anne-Sophie")
    assert "Vouliez-vous dire <b>LEFÈVRE Anne-Sophie</b>" in roll_chat.last["text"]
    await roll_chat.press("Oui")
    assert "figure sur la liste" in roll_chat.last["text"]


async def test_lookups_are_rate_limited_and_audited(roll_chat: Chat) -> None:
    store = roll_chat.app.bot_data["services"].store
    for name in ("Awa Ndiaye", "Inconnu Paul", "Cécile Oeuvrard"):
        await roll_chat.say(name)
    assert "figure sur la liste" in roll_chat.last["text"]
    await roll_chat.say("Jean de La Fontaine")
    text = roll_chat.last["text"]
    assert f"{LIMIT} vérifications en une heure" in text and "60 minutes" in text
    assert "Fontaine" not in text
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
    services = app.bot_data["services"]
    await import_roll(services.store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    ctx = Context(now=ACTIVATION_NOW, phase="activation", data={}, user_id=7)
    question = "est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?"
    assert await services.roll.entry(question, ctx) == "roll.found"
    assert ctx.data["roll_found"]["ballots"] == ["CSA de proximité de Créteil"]
    assert await services.roll.entry("est-ce qu'elle est inscrite ?", ctx) is None


async def test_the_guide_explanation_leads_to_a_check_or_to_the_address(chat: Chat) -> None:
    services = chat.app.bot_data["services"]
    services.engine.commands["liste"] = "roll.how"  # as the intent router would jump there
    await chat.say("/menu")
    await chat.say("/liste")
    assert "CSA de proximité de Créteil" in chat.last["text"]
    await chat.press("n'y figure pas")
    await chat.press("Trouver l'adresse")
    await chat.press("ATSS")
    assert "electionspro-atss@ac-creteil.fr" in chat.last["text"]
