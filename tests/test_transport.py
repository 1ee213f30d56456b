"""The aiohttp request backend under python-telegram-bot, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.fakes.botapi import api_error
from tests.fakes.http import FakeBotAPIServer

TOKEN = "123456:TEST"


def _bot(server: FakeBotAPIServer, read_timeout: float = 5.0) -> Bot:
    base = server.base_url
    return Bot(
        TOKEN,
        base_url=f"{base}/bot",
        request=AiohttpRequest(read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(connections=1),
    )


async def test_messages_with_keyboards_and_accents_arrive_intact() -> None:
    with FakeBotAPIServer(token=TOKEN) as server:
        async with _bot(server) as bot:
            sent = await bot.send_message(
                42, "Votre identifiant : prénom.nom@ac-creteil.fr & <b>code</b>", parse_mode="HTML"
            )
    assert sent.chat.id == 42
    call = server.api.delivered[-1]
    assert call.params["text"] == "Votre identifiant : prénom.nom@ac-creteil.fr & <b>code</b>"
    assert call.params["parse_mode"] == "HTML"


async def test_a_photo_is_uploaded_as_multipart_with_its_caption() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with FakeBotAPIServer(token=TOKEN) as server:
        async with _bot(server) as bot:
            message = await bot.send_photo(-100123, png, caption="Semaine du 30 novembre")
    assert server.api.photos == [png]
    assert message.caption == "Semaine du 30 novembre"


async def test_telegram_errors_keep_their_meaning() -> None:
    answers: dict[str, tuple[int, dict[str, Any]]] = {
        "sendMessage": api_error(429, "Too Many Requests: retry after 7", retry_after=7)
    }
    with FakeBotAPIServer(token=TOKEN) as server:
        server.api.fault = lambda method, params: answers.get(method)
        async with _bot(server) as bot:
            with pytest.raises(RetryAfter) as limited:
                await bot.send_message(42, "Bonjour")
            answers["sendMessage"] = api_error(400, "Bad Request: message is too long")
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(42, "Bonjour")
    assert limited.value.retry_after.total_seconds() == 7


async def test_a_server_that_hangs_is_a_time_out_not_a_frozen_bot() -> None:
    hang = {"on": True}

    def slow(method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage" and hang["on"]:
            time.sleep(1.5)

    with FakeBotAPIServer(token=TOKEN) as server:
        server.api.fault = slow
        async with _bot(server, read_timeout=0.3) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(42, "Bonjour")
            hang["on"] = False
            again = await bot.send_message(42, "Bonjour")  # the pool still works afterwards
    assert again.text == "Bonjour"


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_many_calls_at_once_share_a_bounded_pool() -> None:
    with FakeBotAPIServer(token=TOKEN) as server:
        async with _bot(server) as bot:
            await asyncio.gather(*(bot.send_message(i, f"n°{i}") for i in range(1, 201)))
    assert sorted(int(c.params["chat_id"]) for c in server.api.delivered) == list(range(1, 201))
