"""What voters type, in context: questions at text steps, profile, STOP, English, clarify.

Every case goes through the real `Application.process_update` on a real SQLite file.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.flows.info import INTENT_STEPS
from bot.intent.corpus import load_file
from bot.redact import has_secret
from bot.texts import html_to_plain
from tests.conftest import ACTIVATION_NOW, Chat, votebot_cli

ISSUE_EXAMPLES = [
    (t, i) for i, t in load_file(Path(__file__).parent / "data" / "issue_examples.tsv")
]


def _text(chat: Chat) -> str:
    return html_to_plain(chat.last["text"])


def _services(chat: Chat):
    return chat.app.bot_data.services


async def _conversation(chat: Chat):
    return await _services(chat).store.load_conversation(chat.user_id)


async def test_a_roll_question_at_the_menu_is_not_read_as_a_name(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.say("comment je vérifie que ma collègue est sur la liste")
    text = _text(chat)
    assert "consulter la liste électorale" in text
    assert "comment" not in text.lower().split("«")[-1]  # nothing echoed as a name
    assert (await _conversation(chat)).state == "how"


async def test_a_question_at_the_roll_step_is_answered_not_looked_up(chat: Chat) -> None:
    store = _services(chat).store
    await chat.say("/menu")
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    await chat.say("jai perdu mon code de vote")
    text = _text(chat)
    assert "Code de vote perdu" in text and "perdu mon code" not in text
    assert await store.roll_lookups_since(chat.user_id, ACTIVATION_NOW - timedelta(hours=1)) == []
    conv = await _conversation(chat)
    assert (conv.flow, conv.state) == ("lost_code", "how")
    assert "roll_query" not in conv.data and "perdu" not in str(conv.data)


async def test_at_the_roll_step_a_name_is_looked_up_and_a_how_to_is_explained(
    chat: Chat, tmp_path: Path
) -> None:
    from bot.roll import import_roll
    from tests.fakes.roll_csv import ROWS, write

    store = _services(chat).store
    await import_roll(store, write(tmp_path / "roll.csv", ROWS), ACTIVATION_NOW)
    await chat.say("/menu")
    await chat.press("Liste électorale")
    await chat.press("Vérifier un·e collègue")
    await chat.say("comment je vérifie que ma collègue est sur la liste")
    assert "consulter la liste électorale" in _text(chat)
    assert await store.roll_lookups_since(chat.user_id, ACTIVATION_NOW - timedelta(hours=1)) == []
    await chat.say("est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?")
    assert "figure sur la liste" in _text(chat)
    await chat.say("lefevre anne sophie")
    assert "figure sur la liste" in _text(chat)


async def test_a_category_typed_at_the_profile_question_fills_the_profile(chat: Chat) -> None:
    store = _services(chat).store
    await chat.say("/start")
    await chat.say("AESH")
    assert "Dans quel département" in _text(chat)
    await chat.say("94")
    assert "Catégorie : AESH" in _text(chat) and "Val-de-Marne (94)" in _text(chat)
    user = await store.get_user(chat.user_id)
    assert (user.category, user.departement) == ("aesh", "94")


async def test_category_and_departement_in_one_sentence_at_the_profile_question(
    chat: Chat,
) -> None:
    await chat.say("/start")
    await chat.say("je suis AESH dans le 94")
    text = _text(chat)
    assert "Profil enregistré" in text and "Catégorie : AESH" in text and "(94)" in text
    conv = await _conversation(chat)
    assert conv.flow == "profile"


async def test_a_statement_at_the_menu_fills_an_unknown_profile_with_a_confirmation(
    chat: Chat,
) -> None:
    await chat.say("/menu")
    await chat.say("je suis prof des écoles dans le 93")
    text = _text(chat)
    assert "Profil enregistré" in text and "premier degré" in text and "(93)" in text
    user = await _services(chat).store.get_user(chat.user_id)
    assert (user.category, user.departement) == ("premier_degre", "93")


async def test_a_departement_alone_completes_a_profile_that_lacks_it(chat: Chat) -> None:
    await chat.say("/start")
    await chat.press("AESH")
    await chat.press("Passer")
    await chat.say("/menu")
    await chat.say("94")
    assert "Catégorie : AESH" in _text(chat) and "Val-de-Marne (94)" in _text(chat)


async def test_with_a_known_profile_a_category_and_departement_give_the_address(
    chat: Chat,
) -> None:
    await chat.say("/menu")
    await chat.say("je suis AED dans le 77")
    await chat.say("aesh 93")
    assert "electionspro-aesh93@ac-creteil.fr" in _text(chat)
    user = await _services(chat).store.get_user(chat.user_id)
    assert (user.category, user.departement) == ("aed", "77")


async def test_a_departement_typed_at_the_departement_step_keeps_the_category(
    chat: Chat,
) -> None:
    await chat.say("/menu")
    await chat.press("Signaler un·e collègue")
    await chat.press("Premier degré")
    assert "Lequel ?" in _text(chat)
    await chat.say("94")
    assert "electionspro-1erdegre94@ac-creteil.fr" in _text(chat)


async def test_stop_asks_once_then_turns_reminders_off(chat: Chat) -> None:
    store = _services(chat).store
    await chat.say("/rappels")
    await chat.press("Recevoir les rappels")
    assert (await store.get_user(chat.user_id)).reminders is True
    await chat.say("STOP")
    assert "arrêter les rappels" in _text(chat)
    assert (await store.get_user(chat.user_id)).reminders is True  # nothing before the tap
    await chat.press("Oui, arrêter")
    assert "/rappels" in _text(chat)
    assert (await store.get_user(chat.user_id)).reminders is False
    await chat.say("arrêtez de m'envoyer des messages")
    assert "Vous ne recevez pas de rappels" in _text(chat)
    shown = [b["text"] for row in chat.last["reply_markup"]["inline_keyboard"] for b in row]
    assert not any("Non, continuer" in label for label in shown)  # no question was asked


async def test_english_gets_one_english_line_then_the_french_answer(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.say("where can I find my NUMEN number")
    texts = [html_to_plain(t) for t in chat.texts()[-2:]]
    assert texts[0].startswith("🇬🇧 I understand English") and "NUMEN" in texts[0]
    assert "secrétariat" in texts[1]


async def test_out_of_scope_and_voting_advice_say_what_the_bot_does(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.say("quand est ce qu'on est payé ce mois ci")
    assert "élections professionnelles" in _text(chat)
    await chat.say("pour qui voter ?")
    text = _text(chat)
    assert "aucun avis" in text and "Ce que je peux faire" in text


async def test_forgotten_secret_answer_is_not_the_choose_a_question_step(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.say("je me souviens plus de la reponse a la question secrete")
    text = _text(chat)
    assert "Réponse à la question secrète oubliée" in text
    assert "J'ai choisi ma question" not in str(chat.last.get("reply_markup"))


async def test_a_clarify_choice_is_kept_as_a_redacted_example_and_exported(
    chat: Chat, tmp_path: Path
) -> None:
    await chat.say("/menu")
    await chat.say("code de vote ou mot de passe, je sais plus")
    assert "Vous parlez de" in _text(chat)
    labels = [b["text"] for row in chat.last["reply_markup"]["inline_keyboard"] for b in row]
    other = next(i for i, label in enumerate(labels) if "Autre chose" in label)
    assert "Code de vote perdu" in labels[0] and 2 <= other <= 3
    await chat.press("Code de vote perdu")
    rows = await _services(chat).store.intent_feedback()
    assert [(r.intent, r.text) for r in rows] == [
        ("lost_vote_code", "code de vote ou mot de passe, je sais plus")
    ]
    await _services(chat).store.db.conn.commit()
    env = {**os.environ, "VOTEBOT_DB": str(tmp_path / "votebot.sqlite3")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    out = votebot_cli(tmp_path, env, "intent", "--export-feedback").stdout
    assert out == "lost_vote_code\tcode de vote ou mot de passe, je sais plus\n"


async def test_other_thing_leads_to_the_fallback_and_records_nothing(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.say("code de vote ou mot de passe, je sais plus")
    await chat.press("Autre chose")
    assert "Je n'ai pas bien compris" in _text(chat)
    await chat.say("code de vote ou mot de passe, je sais plus")
    await chat.say("merci")
    assert await _services(chat).store.intent_feedback() == []
    conv = await _conversation(chat)
    assert "clarify_text" not in conv.data


async def test_a_clarified_text_is_kept_without_its_secrets(chat: Chat) -> None:
    from bot.flows import Context

    router = _services(chat).engine.router
    ctx = Context(now=ACTIVATION_NOW, phase="activation", profile={"category": "aed"})
    route = await router("code de vote ou mot de passe 24E1701234ABC, je sais plus", ctx)
    assert route.goto == "info.clarify"
    assert "1701234" not in ctx.data["clarify_text"] and "[secret" in ctx.data["clarify_text"]


@pytest.mark.parametrize(("text", "intent"), ISSUE_EXAMPLES)
async def test_every_example_of_the_issue_lands_on_its_step(
    chat: Chat, text: str, intent: str
) -> None:
    assert not has_secret(text)  # "vacataire 6h/semaine, électeur ou pas ?" is a question
    await chat.say("/menu")
    await chat.say(text)
    conv = await _conversation(chat)
    if (conv.flow, conv.state) == ("info", "clarify"):
        assert conv.data["suggestions"][0] == intent
    else:
        assert f"{conv.flow}.{conv.state}" == INTENT_STEPS[intent]
