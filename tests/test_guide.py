"""The whole voter guide, walked through the Telegram front end and the terminal chat."""

from __future__ import annotations

import io
import logging
import sqlite3
from datetime import datetime
from typing import Protocol

import pytest

from bot.console import ConsoleChat
from bot.election import Election
from bot.services import Services
from bot.settings import PARIS, load_settings
from bot.telegram.app import build_application
from bot.texts import html_to_plain
from tests.conftest import TOKEN, Chat
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.inprocess import FakeRequest

MOMENTS = {
    "before_portal": datetime(2022, 9, 20, 10, 0, tzinfo=PARIS),
    "activation": datetime(2022, 11, 2, 10, 0, tzinfo=PARIS),
    "voting": datetime(2022, 12, 5, 10, 0, tzinfo=PARIS),
    "last_day": datetime(2022, 12, 8, 9, 0, tzinfo=PARIS),
    "closed": datetime(2022, 12, 9, 10, 0, tzinfo=PARIS),
}


class Driver(Protocol):
    services: Services

    async def say(self, text: str) -> None: ...
    async def press(self, label: str) -> None: ...
    def text(self) -> str: ...


class TelegramDriver:
    """The real PTB Application over the in-process fake Bot API."""

    def __init__(self, chat: Chat, services: Services) -> None:
        self.chat, self.services = chat, services

    async def say(self, text: str) -> None:
        await self.chat.say(text)

    async def press(self, label: str) -> None:
        await self.chat.press(label)

    def text(self) -> str:
        return html_to_plain(self.chat.last["text"])

    def all_texts(self) -> str:
        return "\n".join(html_to_plain(t) for t in self.chat.texts())


class ConsoleDriver:
    """The terminal chat on the same engine."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.out = io.StringIO()
        self.console = ConsoleChat(services, self.out)
        self.mark = 0

    async def say(self, text: str) -> None:
        self.mark = len(self.out.getvalue())
        await self.console.send(text)

    async def press(self, label: str) -> None:
        labels = [label for _, label in self.console.port.keyboard]
        matches = [i for i, shown in enumerate(labels, 1) if label in shown]
        assert matches, f"no button with {label!r} among {labels}"
        await self.say(str(matches[0]))

    def text(self) -> str:
        return self.out.getvalue()[self.mark :]

    def all_texts(self) -> str:
        return self.out.getvalue()


@pytest.fixture(params=["telegram", "terminal"])
async def driver_at(request, tmp_path, election: Election):
    """A factory: a driver (Telegram or terminal) with the clock at a named moment."""
    opened: list = []

    async def make(moment: str = "activation", support: bool = False) -> Driver:
        settings = load_settings(
            None,
            TELEGRAM_BOT_TOKEN=TOKEN,
            VOTEBOT_DB=str(tmp_path / f"{moment}.sqlite3"),
            VOTEBOT_NOW=MOMENTS[moment].isoformat(),
            VOTEBOT_SUPPORT_CHAT="-1009999" if support else "",
        )
        services = await Services.open(settings, election)
        opened.append(services)
        if request.param == "terminal":
            return ConsoleDriver(services)
        api = FakeBotAPI()
        app = build_application(settings, election, services, request=FakeRequest(api))
        await app.initialize()
        opened.append(app)
        return TelegramDriver(Chat(app, api), services)

    yield make
    for thing in reversed(opened):
        await (thing.shutdown() if hasattr(thing, "shutdown") else thing.close())


async def walk(driver: Driver, steps: list[tuple[str, str]]) -> None:
    """Press each label in turn (or type a /command) and check the answer shows `expected`."""
    for action, expected in steps:
        if action.startswith("/") or action.startswith("text:"):
            await driver.say(action.removeprefix("text:"))
        else:
            await driver.press(action)
        assert expected in driver.text(), (action, expected, driver.text())


async def test_profile_is_asked_once_and_stored(driver_at) -> None:
    d = await driver_at()
    await walk(
        d,
        [
            ("/start", "quelle est votre catégorie"),
            ("AESH", "Dans quel département"),
            ("93", "Seine-Saint-Denis (93)"),
            ("Continuer", "rappels"),
            ("Oui", "Par quelle étape commençons-nous"),
            ("/start", "Par quelle étape commençons-nous"),
            ("/profil", "Catégorie : AESH"),
            ("Premier degré", "Dans quel département"),
            ("Passer", "Catégorie : premier degré"),
        ],
    )
    user_id = 1001 if isinstance(d, TelegramDriver) else 0
    user = await d.services.store.get_user(user_id)
    assert (user.category, user.departement, user.reminders) == ("premier_degre", "93", True)


async def test_webmel_flow(driver_at) -> None:
    d = await driver_at()
    await walk(
        d,
        [
            ("/menu", "Menu"),
            ("adresse académique", "@ac-creteil.fr"),
            ("Non", "Connaître son identifiant"),
            ("J'ai cliqué", "date de naissance"),
            ("Je n'ai pas mon NUMEN", "secrétariat de votre établissement"),
            ("J'ai mon NUMEN", "date de naissance"),
            ("obtenu", "au départ, c'est votre NUMEN"),
            ("chiffre", "prenom.nom2@ac-creteil.fr"),
            ("Compris", "Étape 1 terminée"),
            ("Mot de passe de messagerie oublié", "réinitialisation du mot de passe"),
            ("de nouveau accès", "boîte pleine bloque"),
            ("portail élections", "ACCÉDER AU PORTAIL ÉLECTIONS"),
        ],
    )


async def test_portal_password_secret_notice_and_vote_flows(driver_at) -> None:
    d = await driver_at("voting")
    await walk(
        d,
        [
            ("/menu", "Menu"),
            ("Créer mon espace électeur", "electionspro2022/portail/accueil"),
            ("C'est fait", "adresse de messagerie professionnelle"),
            ("C'est fait", "4 chiffres"),
            ("arrive pas à le lire", "zoomez"),
            ("je l'ai saisi", "lien de validation"),
            ("rien reçu", "indésirables (spam)"),
            ("Je l'ai reçu", "Lien validé"),
            ("règles du mot de passe", "au moins 12 caractères"),
            ("12 caractères", "au moins 12 caractères"),
            ("majuscule", "Cochez"),
            ("respecte tout", "Il manque encore"),
            ("Retour", "Cochez"),
            ("minuscule", "Cochez"),
            ("chiffre", "Cochez"),
            ("spécial", "Cochez"),
            ("respecte tout", "Notez ce mot de passe"),
            ("question secrète", "Étape 2 (fin)"),
            ("À quoi sert", "NUMEN"),
            ("J'ai choisi", "espace électeur est activé"),
            ("notice de vote", "secrétariat de votre établissement"),
            ("remplaçant", "établissement de rattachement"),
            ("pas reçue", "Pas de notice"),
            ("J'ai ma notice", "vous avez tout pour voter"),
            ("Étape 4 : voter", "Je vote"),
            ("Ensuite", "un scrutin à la fois"),
            ("J'ai voté", "Merci d'avoir voté"),
            ("/progression", "4 étapes sur 4"),  # "J'ai voté" implies every step
        ],
    )


async def test_roll_lost_codes_and_progress(driver_at) -> None:
    d = await driver_at("activation")
    await walk(
        d,
        [
            ("/menu", "Menu"),
            ("Liste électorale", "CSA de proximité de Créteil"),
            ("n'y figure pas", "chef·fe d'établissement"),
            ("Trouver l'adresse", "catégorie"),
            ("AESH", "département"),
            ("Seine-Saint-Denis", "electionspro-aesh93@ac-creteil.fr"),
            ("/menu", "Menu"),
            ("J'ai perdu", "Qu'avez-vous perdu"),
            ("« élections » perdu", "réassort"),
            ("/menu", "Menu"),
            ("J'ai perdu", "Qu'avez-vous perdu"),
            ("Code de vote perdu", "jeudi 1er décembre 2022"),
            ("rappelez-moi", "Aucun rappel n'est programmé pour l'instant"),
            ("/progression", "0 étape sur 4"),
            ("Code de vote en main", "1 étape sur 4"),
            ("Code de vote en main", "0 étape sur 4"),
        ],
    )
    user_id = 1001 if isinstance(d, TelegramDriver) else 0
    assert (await d.services.store.get_user(user_id)).reminders is True


@pytest.mark.parametrize(
    ("moment", "vote_text", "code_text"),
    [
        ("before_portal", "Vote en ligne du jeudi 1er décembre 2022", "Voulez-vous un rappel"),
        (
            "activation",
            "Vote en ligne du jeudi 1er décembre 2022",
            "à partir du jeudi 1er décembre",
        ),
        ("voting", "ouvert jusqu'au jeudi 8 décembre 2022 à 17h00", "expire en quelques minutes"),
        ("last_day", "le vote ferme aujourd'hui à 17h00", "NUMEN"),
        ("closed", "Le vote est clos", "n'est plus possible"),
    ],
)
async def test_answers_follow_the_election_phase(driver_at, moment, vote_text, code_text) -> None:
    d = await driver_at(moment)
    await walk(
        d, [("/menu", vote_text), ("J'ai perdu", "perdu"), ("Code de vote perdu", code_text)]
    )


async def test_portal_before_opening_says_when_it_opens(driver_at) -> None:
    d = await driver_at("before_portal")
    await walk(
        d, [("/menu", "Menu"), ("Créer mon espace", "Le portail ouvre le jeudi 13 octobre 2022")]
    )


async def test_free_text_lands_on_the_right_step(driver_at) -> None:
    d = await driver_at("voting")
    await walk(
        d,
        [
            ("/menu", "Menu"),
            ("text:j'ai perdu mon code de vote", "réassort"),
            ("text:c koi le lien du portail stp", "ACCÉDER AU PORTAIL ÉLECTIONS"),
            ("text:quand est-ce qu'on vote", "Vote en ligne : du jeudi 1er décembre 2022"),
            ("text:qui peut voter ?", "les stagiaires"),
            ("text:bonjour", "assistant (automatique)"),
            ("text:comment avoir ma fiche de paie", "questions sur les élections"),
            ("text:blablabla zzz", "Je n'ai pas bien compris"),
            ("text:merci", "Avec plaisir"),
            ("text:contact aesh 93", "electionspro-aesh93@ac-creteil.fr"),
            (
                "text:adresse pour un prof des écoles du 94",
                "electionspro-1erdegre94@ac-creteil.fr",
            ),
        ],
    )


async def test_a_question_naming_a_colleague_looks_them_up(driver_at, tmp_path) -> None:
    from bot.roll import import_roll
    from tests.fakes.roll_csv import ROWS, write

    d = await driver_at()
    await import_roll(d.services.store, write(tmp_path / "roll.csv", ROWS), MOMENTS["activation"])
    question = "text:est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?"
    await walk(d, [("/menu", "Menu"), (question, "CSA de proximité")])


async def test_an_ambiguous_message_asks_which_topic_likeliest_first(driver_at) -> None:
    d = await driver_at()
    question = "text:code de vote ou mot de passe, je sais plus"
    await walk(d, [("/menu", "Menu"), (question, "Vous parlez de")])
    await d.press("Code de vote perdu")
    assert "un nouveau code ne peut être demandé" in d.text()


async def test_a_pasted_numen_is_deleted_and_kept_nowhere(driver_at, tmp_path, caplog) -> None:
    d = await driver_at()
    with caplog.at_level(logging.DEBUG):
        await d.say("/menu")
        await d.say("mon numen est 24E1701234ABC")
    assert "je ne l'ai pas conservé" in d.all_texts()
    if isinstance(d, TelegramDriver):
        deleted = [c for c in d.chat.api.calls if c.method == "deleteMessage"]
        assert len(deleted) == 1
        assert "effacé" in d.all_texts()
    await d.services.store.db.conn.commit()
    for path in tmp_path.glob("*.sqlite3*"):
        assert b"1701234" not in path.read_bytes(), path
    with sqlite3.connect(next(tmp_path.glob("*.sqlite3"))) as db:
        dump = "\n".join(db.iterdump())
    assert "1701234" not in dump
    assert "1701234" not in caplog.text


async def test_three_misunderstood_messages_offer_a_person(driver_at) -> None:
    d = await driver_at(support=True)
    await walk(
        d,
        [
            ("/menu", "Menu"),
            ("text:zorglub", "pas bien compris"),
            ("text:wxcv bnn", "pas bien compris"),
            ("text:qsdf ghj", "une personne de l'équipe d'assistance"),
        ],
    )


async def test_asking_for_a_person_in_free_text_requests_a_handoff(driver_at) -> None:
    d = await driver_at(support=True)
    await walk(d, [("/menu", "Menu"), ("text:je veux parler à un humain", "")])
    user_id = 1001 if isinstance(d, TelegramDriver) else 0
    conv = await d.services.store.load_conversation(user_id)
    assert (conv.flow, conv.state) == ("human", "requested")


async def test_without_a_staff_group_nobody_is_promised(driver_at) -> None:
    d = await driver_at()
    await walk(d, [("/menu", "Menu")])
    assert "Parler à quelqu'un" not in d.text()
    await walk(d, [("text:je veux parler à un humain", "personne de l'équipe d'assistance")])
    for text in ("zorglub", "wxcv bnn", "qsdf ghj"):
        await walk(d, [(f"text:{text}", "pas bien compris")])
