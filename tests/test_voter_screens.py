"""Defects found by reading every voter screen, each pinned by what the voter sees."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.console import ConsoleChat
from bot.election import load_election, with_facts
from bot.services import Services
from bot.settings import PARIS
from bot.telegram.app import build_application
from bot.texts import Renderer, html_to_plain
from store import Audience
from tests.conftest import Chat, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.inprocess import FakeRequest

Open = Callable[..., Awaitable[Chat]]


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def text(chat: Chat) -> str:
    return html_to_plain(chat.last["text"])


@pytest.fixture
async def chat_at(tmp_path: Path) -> AsyncIterator[Open]:
    """A factory: a voter on the real Application with the clock at `now` (Paris)."""
    opened: list[tuple[Any, Services]] = []

    async def make(now: str, election: str = "creteil-2022", **facts: str) -> Chat:
        settings = make_settings(
            tmp_path, VOTEBOT_NOW=now, VOTEBOT_DB=str(tmp_path / f"{len(opened)}.sqlite3")
        )
        e = load_election(election)
        if facts:
            e = with_facts(e, facts)
        services = await Services.open(settings, e)
        api = FakeBotAPI()
        app = build_application(settings, e, services, request=FakeRequest(api))
        await app.initialize()
        opened.append((app, services))
        return Chat(app, api)

    yield make
    for app, services in opened:
        await app.shutdown()
        await services.close()


# -- reminders ---------------------------------------------------------------------------


def test_reminders_say_the_notice_carries_the_vote_code_and_the_eve_recalls_it() -> None:
    renderer = Renderer(load_election("creteil-2022"), lambda: datetime(2022, 11, 1, tzinfo=PARIS))
    notice = html_to_plain(renderer.text("reminders/plan_notice_week.html"))
    assert "code de vote" in notice and "identifiant électeur" not in notice
    eve = html_to_plain(renderer.text("reminders/plan_eve.html"))
    assert "code de vote" in eve
    assert "jeudi 1er décembre" in eve and "jeudi 1 décembre" not in eve


# -- numbering ---------------------------------------------------------------------------


async def test_one_numbering_from_the_menu_to_the_steps(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("/menu")
    menu = labels(chat.last)
    assert any("3. Notice" in label for label in menu)
    assert any("4. Voter" in label for label in menu)
    await chat.press("3. Notice")
    assert "Étape 3 — La notice de vote" in text(chat)
    await chat.say("/menu")
    await chat.press("4. Voter")
    assert "Étape 4 — Voter" in text(chat)
    await chat.say("question secrète")
    assert "Étape 3" not in text(chat) and "Étape 4" not in text(chat)


# -- a recovery never falls into account creation --------------------------------------


async def test_lost_password_recovery_never_ends_in_account_creation(chat_at: Open) -> None:
    chat = await chat_at("2022-12-05T10:00")
    await chat.say("/menu")
    await chat.press("J'ai perdu")
    await chat.press("« élections » perdu")
    await chat.press("Rappel des règles")
    for rule in ("12 caractères", "majuscule", "minuscule", "chiffre", "spécial"):
        await chat.press(rule)
    await chat.press("respecte tout")
    shown = text(chat)
    assert "nouveau mot de passe" in shown
    assert "question secrète" not in shown and "activé" not in shown
    assert labels(chat.last) == ["⬅️ Retour", "🏠 Menu"]


# -- phases ------------------------------------------------------------------------------


async def test_a_lost_notice_before_the_vote_points_to_the_secretariat_now(
    chat_at: Open,
) -> None:
    chat = await chat_at("2022-10-20T10:00")
    await chat.say("j'ai perdu ma notice")
    assert "secrétariat de votre établissement" in text(chat)
    assert "jeudi 1er décembre 2022" in text(chat)


async def test_after_closing_no_screen_sends_the_voter_on(chat_at: Open) -> None:
    chat = await chat_at("2022-12-09T10:00")
    await chat.say("/menu")
    await chat.press("2. Créer mon espace")
    assert "ACCÉDER" not in text(chat) and "Le vote est clos" in text(chat)
    assert "✅ C'est fait" not in labels(chat.last)
    await chat.say("/menu")
    await chat.press("3. Notice")
    assert "Le vote est clos" in text(chat)
    assert labels(chat.last) == ["⬅️ Retour", "🏠 Menu"]  # nothing sends the voter on
    await chat.say("/menu")
    await chat.press("4. Voter")
    assert "Il n'est plus possible de voter" in text(chat)
    assert "➡️ Ensuite" not in labels(chat.last)


async def test_before_the_portal_opens_the_portal_step_does_not_go_on(chat_at: Open) -> None:
    chat = await chat_at("2022-09-20T10:00")
    await chat.say("/menu")
    await chat.press("2. Créer mon espace")
    assert "Le portail ouvre le jeudi 13 octobre 2022" in text(chat)
    assert "✅ C'est fait" not in labels(chat.last)


async def test_voting_opens_at_the_configured_time_not_at_midnight(chat_at: Open) -> None:
    chat = await chat_at("2026-12-03T08:00", "creteil-2026", vote_opens="2026-12-03T09:00")
    await chat.say("/menu")
    assert "Le vote est ouvert" not in text(chat)
    assert "du jeudi 3 décembre 2026 à 9h00" in text(chat)
    later = await chat_at("2026-12-03T09:00", "creteil-2026", vote_opens="2026-12-03T09:00")
    await later.say("/menu")
    assert "Le vote est ouvert" in text(later)


# -- promise only what is scheduled ------------------------------------------------------


async def test_the_reminder_promise_follows_what_admins_switched_on(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("/menu")
    await chat.press("J'ai perdu")
    await chat.press("Code de vote perdu")
    await chat.press("rappelez-moi")
    assert "Aucun rappel n'est programmé" in text(chat)
    assert "Un rappel est prévu" not in text(chat)

    admin = Chat(chat.app, chat.api, 42)
    await admin.say("/calendrier")
    await admin.press("opening")
    await chat.say("/menu")
    await chat.press("J'ai perdu")
    await chat.press("Code de vote perdu")
    await chat.press("rappelez-moi")
    assert "Un rappel est prévu à l'ouverture du vote, le jeudi 1er décembre 2022" in text(chat)


# -- navigation --------------------------------------------------------------------------


async def test_no_screen_has_a_third_navigation_button(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("/menu")
    await chat.press("J'ai perdu")
    assert [x for x in labels(chat.last) if "Retour" in x or "Menu" in x] == ["⬅️ Retour"]
    await chat.say("je veux parler à quelqu'un")
    if "Oui, parler" in " ".join(labels(chat.last)):
        await chat.press("Oui, parler")
    assert not any("Retour au menu" in x for x in labels(chat.last))
    await chat.say("/menu")
    await chat.press("2. Créer mon espace")
    for step in ("C'est fait", "C'est fait", "lire", "saisi", "J'ai cliqué", "règles"):
        await chat.press(step)
    await chat.press("respecte tout")
    assert "Il manque encore" in text(chat)
    assert not any("Revoir la liste" in x for x in labels(chat.last))
    await chat.press("Retour")
    assert "Cochez" in text(chat)


async def test_back_never_lands_on_the_fallback_screen(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("/menu")
    await chat.say("blorp zzz qwv")
    assert "Je n'ai pas bien compris" in text(chat)
    await chat.press("1. Mon adresse")
    await chat.press("Retour")
    assert "Je n'ai pas bien compris" not in text(chat)
    assert "Menu" in text(chat)


async def test_a_secret_pasted_at_the_fallback_leads_to_the_menu(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("/menu")
    await chat.say("blorp zzz qwv")
    await chat.say("mon NUMEN 24E1701234ABC")
    assert "Je n'ai pas bien compris" not in text(chat)
    assert "Menu" in text(chat)


async def test_the_dates_screen_prints_each_date_once(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    await chat.say("quelles sont les dates du vote")
    assert text(chat).count("jeudi 8 décembre 2022") == 1


def test_labels_say_espace_electeur_and_which_password(tmp_path: Path) -> None:
    templates = Path(__file__).parents[1] / "bot" / "templates"
    voter = [
        p
        for p in templates.rglob("*.html")
        if p.parts[-2] not in ("support", "broadcast", "admin", "console")
    ]
    for path in voter:
        content = path.read_text(encoding="utf-8")
        assert "compte électeur" not in content and "création du compte" not in content, path
        assert "J'ai oublié le mot de passe" not in content, path


# -- every time shown is Paris time ------------------------------------------------------


async def test_staff_screens_show_paris_time(chat_at: Open) -> None:
    chat = await chat_at("2022-11-02T10:00")
    services = chat.app.bot_data.services
    admin = Chat(chat.app, chat.api, 42)
    # 08:00 UTC on 1 December is 09:00 in Paris.
    send_at = datetime.fromisoformat("2022-12-01T08:00:00+00:00")
    await services.store.create_broadcast("Bonjour", Audience(), send_at, send_at)
    await admin.say("/diffusions")
    assert "09:00" in text(admin) and "08:00" not in text(admin)
    await admin.say("/calendrier")
    assert "1 déc. 09:00" in text(admin)


def test_transcript_and_stuck_times_are_paris_time() -> None:
    renderer = Renderer(load_election("creteil-2022"), lambda: datetime(2022, 12, 5, tzinfo=PARIS))
    at = datetime.fromisoformat("2022-12-05T16:30:00+00:00")  # 17:30 in Paris
    line = {"direction": "in", "at": at, "text": "bonjour"}
    voter = {
        "known": True,
        "user_id": 1,
        "first_name": "Camille",
        "category": None,
        "departement": None,
        "flow": "menu",
        "state": "main",
        "checklist": [],
        "done": [],
        "handoff": False,
        "lines": [line],
    }
    shown = renderer.text("support/voter.html", voter)
    assert "17:30" in shown
    assert renderer.text("broadcast/date_cloture.html") == "jeudi 8 décembre à 17h00"


async def test_the_terminal_chat_knows_oubli_as_help_lists_it(services: Services) -> None:
    out = io.StringIO()
    console = ConsoleChat(services, out)
    await console.begin()
    await console.send("/aide")
    assert "/oubli" in out.getvalue()
    await console.send("/oubli")
    assert "Effacer toutes vos données" in out.getvalue()
    await console.send("1")
    assert "tout ce que l'assistant savait de vous est effacé" in out.getvalue()
    assert await services.store.get_user(0) is None


# -- progress ------------------------------------------------------------------------------


async def test_i_voted_ticks_every_earlier_step_of_the_checklist(chat_at: Open) -> None:
    chat = await chat_at("2026-12-04T10:00", "creteil-2026")
    await chat.say("/progression")
    assert "0 étape sur 4" in text(chat)
    await chat.press("J'ai voté")
    assert "4 étapes sur 4" in text(chat)
    assert [label[:2] for label in labels(chat.last)[:4]] == ["☑️"] * 4
    await chat.press("Espace électeur activé")  # not activated after all: so not voted either
    assert "2 étapes sur 4" in text(chat)
    shown = labels(chat.last)
    assert shown[0].startswith("☑️") and shown[2].startswith("☑️")
    assert shown[1].startswith("⬜") and shown[3].startswith("⬜")
    store = chat.app.bot_data.services.store
    assert await store.progress_of(chat.user_id) == {"identifier", "vote_code"}


async def test_the_ballots_step_does_not_tell_every_voter_they_have_several(
    chat_at: Open,
) -> None:
    chat = await chat_at("2026-12-04T10:00", "creteil-2026")
    await chat.say("/menu")
    await chat.press("4. Voter")
    await chat.press("Ensuite")
    shown = text(chat)
    assert "Selon votre statut, vous votez pour 1 à 7 scrutins" in shown
    assert "un scrutin à la fois" in shown and "Vous votez pour plusieurs" not in shown


async def test_the_fallback_lists_the_menu_with_the_menu_labels(chat_at: Open) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/menu")
    menu = labels(chat.last)
    await chat.say("zorglub wxcv")
    assert "Je n'ai pas bien compris" in text(chat)
    shown = labels(chat.last)
    assert "🗳️ 4. Voter" in shown and "📋 Liste électorale" in shown
    assert [label for label in shown if label in menu] == [
        label for label in menu if label in shown
    ]
    assert not any("Comment voter" in label for label in shown)


async def test_a_category_has_one_label_in_the_profile_and_the_missing_colleague_flow(
    chat_at: Open,
) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/profil")
    profile = labels(chat.last)[:5]
    assert "AESH" in profile[3]
    await chat.say("/menu")
    await chat.press("Signaler un·e collègue")
    assert labels(chat.last)[:5] == profile


def test_a_send_time_after_an_unpublished_closing_names_the_last_day_not_today() -> None:
    now = datetime(2026, 12, 4, 10, 0, tzinfo=PARIS)
    renderer = Renderer(load_election("creteil-2026"), lambda: now)
    refused = html_to_plain(
        renderer.text("broadcast/bad_when.html", {"reason": "after_close", "example": "x"})
    )
    assert "jeudi 10 décembre 2026 (heure de clôture pas encore publiée)" in refused
    assert "4 décembre" not in refused
    published = with_facts(load_election("creteil-2026"), {"vote_closes": "2026-12-10T17:00"})
    refused = html_to_plain(
        Renderer(published, lambda: now).text(
            "broadcast/bad_when.html", {"reason": "after_close", "example": "x"}
        )
    )
    assert "jeudi 10 décembre 2026 à 17h00" in refused


async def test_after_the_close_the_notice_step_says_the_vote_is_over(chat_at: Open) -> None:
    chat = await chat_at("2026-12-11T10:00", "creteil-2026")
    await chat.say("/menu")
    await chat.press("3. Notice")
    assert "Le vote est clos" in text(chat)
    assert labels(chat.last) == ["⬅️ Retour", "🏠 Menu"]


async def test_the_forgotten_webmail_password_has_one_label(chat_at: Open) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/menu")
    await chat.press("1. Mon adresse")
    at_step_one = [label for label in labels(chat.last) if "messagerie oublié" in label]
    await chat.say("/menu")
    await chat.press("J'ai perdu")
    in_lost_menu = [label for label in labels(chat.last) if "messagerie oublié" in label]
    assert at_step_one == in_lost_menu == ["📧 Mot de passe de messagerie oublié"]


async def test_the_notice_step_claims_no_2022_only_practice_for_2026(chat_at: Open) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/menu")
    await chat.press("3. Notice")
    shown = text(chat)
    assert "secrétariat de votre établissement" in shown
    assert "contre signature" not in shown  # DOMAIN.md: "against signature in 2022"


async def test_the_reminder_settings_say_no_more_only_to_who_gets_them(chat_at: Open) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/rappels")
    assert "🔕 Ne pas recevoir de rappels" in labels(chat.last)
    await chat.press("Recevoir les rappels")
    await chat.say("/rappels")
    assert "🔕 Ne plus recevoir de rappels" in labels(chat.last)


@pytest.mark.parametrize("typed", ["menu", "Menu", "MENU !", "menu principal", "accueil"])
async def test_menu_typed_without_its_slash_opens_the_menu(chat_at: Open, typed: str) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/menu")
    await chat.press("4. Voter")
    await chat.say(typed)
    assert text(chat).startswith("Menu\n") and "Vous parlez de" not in text(chat)
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    await chat.say(typed)  # at a step waiting for a name, too
    assert text(chat).startswith("Menu\n")


async def test_the_reminder_offer_names_only_dates_still_ahead(chat_at: Open) -> None:
    chat = await chat_at("2026-11-30T10:00", "creteil-2026")
    await chat.say("/start")
    await chat.press("Passer")
    offer = text(chat)
    assert "rappels aux dates importantes" in offer and "jours du vote" in offer
    assert "ouverture du portail" not in offer and "notice" not in offer


def test_the_secret_question_screen_names_the_opening_day_only_before_the_vote() -> None:
    election = load_election("creteil-2022")

    def shown(when: datetime) -> str:
        return html_to_plain(Renderer(election, lambda: when).text("secret/why.html"))

    assert "à partir du 1er décembre 2022" in shown(datetime(2022, 11, 2, 10, tzinfo=PARIS))
    voting = shown(datetime(2022, 12, 5, 10, tzinfo=PARIS))
    assert "le portail vous en donne un nouveau :" in voting and "à partir du" not in voting
    closed = shown(datetime(2022, 12, 9, 10, tzinfo=PARIS))
    assert "Le vote est clos" in closed and "nouveau" not in closed
