"""Handlers through the real `Application.process_update` against the in-process fake Bot API."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import TOKEN, Chat
from tests.fakes.botapi import PHOTO, STICKER, FakeBotAPI


async def test_start_greets_with_the_menu_in_html(chat: Chat) -> None:
    await chat.say("/start")
    call = chat.api.sent(chat.user_id)[-1]
    assert call.params["parse_mode"] == "HTML"
    assert "élections professionnelles" in call.params["text"]
    labels = [b["text"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Premier degré" in label for label in labels)
    assert any("Passer" in label for label in labels)


async def test_walks_the_webmel_flow_with_buttons(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.press("adresse académique")
    assert "@ac-creteil.fr" in chat.last["text"]
    await chat.press("Non")
    assert "Connaître son identifiant" in chat.last["text"]
    assert "https://webmel.ac-creteil.fr/iwc_static/layout/login.html" in chat.last["text"]
    await chat.press("Connaître son identifiant")
    assert "NUMEN" in chat.last["text"] and "date de naissance" in chat.last["text"]
    await chat.press("obtenu")
    await chat.press("noté")
    assert "Étape 1 terminée" in chat.last["text"]
    answered = [c for c in chat.api.calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 5
    edits = [c for c in chat.api.calls if c.method == "editMessageText"]
    assert len(edits) == 5  # each press updates the message in place


async def test_the_same_update_twice_gets_one_reply(chat: Chat) -> None:
    update = await chat.say("/start")
    before = len(chat.api.sent(chat.user_id))
    await chat.feed(update)
    assert len(chat.api.sent(chat.user_id)) == before


async def test_an_old_button_answers_expired_and_shows_the_current_step(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.press("adresse académique")
    old = {**chat.last, "reply_markup": dict(chat.last["reply_markup"])}
    await chat.press("Non")
    await chat.press("Oui", message=old)  # a button of a step the voter has left
    texts = chat.texts()
    assert "expiré" in texts[-2] and "Connaître son identifiant" in texts[-1]


async def test_forged_callback_data_is_answered_gracefully(chat: Chat) -> None:
    await chat.say("/start")
    await chat.feed(chat.api.press_update(chat.user_id, chat.last, "' OR 1=1 --"))
    assert "expiré" in chat.texts()[-2]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"sticker": STICKER},
            "photos",
        ),
        ({"photo": PHOTO}, "photos"),
        ({"location": {"latitude": 48.8, "longitude": 2.4}}, "photos"),
        ({"text": "x" * 4096}, "très long"),
    ],
)
async def test_non_text_and_huge_messages_get_a_short_answer(chat, content, expected) -> None:
    update = chat.api.text_update(chat.user_id, "x")
    del update["message"]["text"]
    update["message"].update(content)
    await chat.feed(update)
    assert expected in chat.texts()[-2]


async def test_edited_messages_are_not_reread(chat: Chat) -> None:
    update = chat.api.text_update(chat.user_id, "bonjour")
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = update["edited_message"]["date"]
    await chat.feed(update)
    assert "modifié" in chat.texts()[-2]


async def test_group_chats_get_one_pointer_to_private_chat_and_nothing_else(chat: Chat) -> None:
    update = chat.api.text_update(chat.user_id, "/start")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Salle des profs"}
    await chat.feed(update)
    chatter = chat.api.text_update(chat.user_id, "on vote quand ?")
    chatter["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Salle des profs"}
    await chat.feed(chatter)
    group = chat.api.sent(-100123)
    assert len(group) == 1 and "conversation privée" in group[0].params["text"]
    assert await chat.app.bot_data.services.store.get_user(chat.user_id) is None


async def test_a_voter_who_blocked_the_bot_is_marked_inactive(chat: Chat) -> None:
    await chat.say("/start")
    chat.api.blocked.add(chat.user_id)
    await chat.say("/menu")
    store = chat.app.bot_data.services.store
    user = await store.get_user(chat.user_id)
    assert user is not None and not user.active


async def test_my_chat_member_updates_track_blocking_and_coming_back(chat: Chat) -> None:
    await chat.say("/start")
    store = chat.app.bot_data.services.store

    def member_update(status: str) -> dict:
        bot = {"id": 123456, "is_bot": True, "first_name": "Votebot"}
        return {
            "my_chat_member": {
                "chat": {"id": chat.user_id, "type": "private"},
                "from": {"id": chat.user_id, "is_bot": False, "first_name": "Camille"},
                "date": 0,
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": status, "user": bot, "until_date": 0},
            }
        }

    await chat.feed(chat.api.push(member_update("kicked")))
    assert not (await store.get_user(chat.user_id)).active
    await chat.feed(chat.api.push(member_update("member")))
    assert (await store.get_user(chat.user_id)).active


async def test_errors_are_logged_and_the_voter_gets_a_polite_message(
    chat: Chat, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    services = chat.app.bot_data.services

    async def broken(msg, state=None):
        raise RuntimeError("database on fire")

    services.engine.handle = broken
    with caplog.at_level(logging.ERROR):
        await chat.say("/start")
    assert "problème technique" in chat.texts()[-1]
    assert "database on fire" in caplog.text


async def test_the_token_never_reaches_the_logs(chat: Chat, caplog) -> None:
    from bot.logs import RedactFilter

    caplog.handler.addFilter(RedactFilter([TOKEN]))
    with caplog.at_level(logging.DEBUG):
        await chat.say("/start")
        logging.getLogger("httpx").info("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
        logging.getLogger("bot").info(f"POST https://api.telegram.org/bot{TOKEN}/getMe")
    assert TOKEN not in caplog.text and "***" in caplog.text
    assert "bot<hidden>/sendMessage" in caplog.text  # a library's arguments are never shown


async def test_a_secret_in_an_edited_message_or_a_caption_is_deleted(chat: Chat) -> None:
    await chat.say("/menu")
    edited = chat.api.text_update(chat.user_id, "mon mdp est Elections2022!")
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = edited["edited_message"]["date"]
    await chat.feed(edited)
    photo = chat.api.text_update(chat.user_id, "x")
    del photo["message"]["text"]
    photo["message"]["photo"] = PHOTO
    photo["message"]["caption"] = "numen 24E1701234ABC"
    await chat.feed(photo)
    assert [c.method for c in chat.api.calls].count("deleteMessage") == 2
    assert sum("effacé" in t for t in chat.texts()) == 2


async def test_replies_and_edits_are_html_without_link_previews(chat: Chat) -> None:
    """The guide's links would otherwise unfold into big previews on a phone."""
    await chat.say("/menu")
    await chat.press("adresse académique")
    calls = [c for c in chat.api.calls if c.method in ("sendMessage", "editMessageText")]
    assert {c.method for c in calls} == {"sendMessage", "editMessageText"}
    for call in calls:
        assert call.params["parse_mode"] == "HTML"
        assert call.params["link_preview_options"] == {"is_disabled": True}
