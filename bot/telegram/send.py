"""The turn's port on Telegram (send, edit) and the one retry/429 helper for Bot API calls."""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.flows import Reply
from bot.services import Services
from bot.turn import Blocked, Buttons, Shown, Unreachable, deliver, show

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5  # tries per Bot API call before the replies are left for redelivery
BACKOFF = 0.5  # seconds before the 2nd try, doubled each time (with jitter)
MAX_RETRY_AFTER = 30.0  # a longer 429 wait is not waited for here: redelivery will do
_sleep = asyncio.sleep  # replaced in tests


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retry(
    call: Callable[[], Awaitable[T]],
    network_tries: int = ATTEMPTS,
    wait_out: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Run one Bot API call, retrying time-outs, network errors and 5xx with backoff and
    honouring 429 retry_after; other errors (400, 403) are raised at once.

    At most ATTEMPTS tries; `network_tries` bounds those that fail on the network (1: raised
    at once, for a caller that retries later itself). `wait_out(seconds)` waits out a 429
    instead of sleeping (the broadcast worker pauses every send); a longer 429 than
    MAX_RETRY_AFTER is raised.
    """
    failures = 0
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except BadRequest:
            raise
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            if attempt == ATTEMPTS - 1 or seconds > MAX_RETRY_AFTER:
                raise
            log.info("Telegram asks to wait %.0f s (429)", seconds)
            await (wait_out or _sleep)(seconds)
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            failures += 1
            if attempt == ATTEMPTS - 1 or failures >= network_tries:
                raise
            wait = BACKOFF * 2**attempt * random.uniform(0.8, 1.2)
            log.info("Bot API call failed (%s), retry in %.1f s", exc, wait)
            await _sleep(wait)
    raise AssertionError("unreachable")


@lru_cache(maxsize=4096)
def keyboard(buttons: Buttons) -> dict[str, Any] | None:
    """The inline keyboard of a shown reply as the Bot API reads it (callback data already
    versioned by the turn); built once per distinct keyboard, shared read-only."""
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in buttons
        ]
    }


# What every reply of a turn is sent with (the Application's Defaults, spelled out: the
# calls below go straight to the Bot API).
HTML = {"parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}


async def call(bot: Bot, method: str, params: dict[str, Any]) -> None:
    """One Bot API call whose answer nobody reads. Straight to the bot's HTTP client with
    PTB's own status handling (429, 403, 400… raise PTB's errors; Telegram answers 200 only
    with `"ok": true`), but no PTB object built from the parameters and the answer not even
    parsed: a reply costs the HTTP exchange and little more. The parameters must be plain
    JSON (no PTB objects)."""
    request = bot.request
    data = RequestData([RequestParameter(name, value, None) for name, value in params.items()])
    await request._request_wrapper(f"{bot.base_url}/{method}", "POST", request_data=data)


class TelegramPort:
    """The turn's port on Telegram: one chat, and the message a button press came from."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message: Message | None = None,
        effects: Mapping[str, Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        self.bot, self.chat_id, self.message = bot, chat_id, message
        self.effects = dict(effects or {})

    async def send(self, shown: Shown) -> None:
        """Send a new message, retried; raises `Blocked` or `Unreachable`."""
        params = {"chat_id": self.chat_id, "text": shown.text, **HTML}
        if shown.buttons:
            params["reply_markup"] = keyboard(shown.buttons)
        await _guarded(partial(call, self.bot, "sendMessage", params))

    async def edit(self, shown: Shown) -> bool:
        """Edit the pressed message in place; False if there is none or Telegram refuses."""
        if self.message is None:
            return False
        params = {
            "chat_id": self.message.chat_id,
            "message_id": self.message.message_id,
            "text": shown.text,
            **HTML,
        }
        if shown.buttons:
            params["reply_markup"] = keyboard(shown.buttons)
        try:
            await _guarded(partial(call, self.bot, "editMessageText", params))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("could not edit message %s, sending a new one", self.message.message_id)
            return False
        return True

    async def effect(self, name: str) -> None:
        """Run a front-end effect (e.g. the support handoff) if this deployment has it."""
        run = self.effects.get(name)
        if run is not None:
            await run()


async def _guarded(call: Callable[[], Awaitable[object]]) -> None:
    try:
        await with_retry(call)
    except Forbidden as exc:
        raise Blocked from exc
    except (NetworkError, RetryAfter) as exc:
        raise Unreachable from exc


async def send_replies(services: Services, bot: Bot, chat_id: int, replies: list[Reply]) -> bool:
    """Send replies outside a voter's turn (e.g. the menu after a handoff); False if the voter
    blocked the bot. Prefer `bot.turn.run_turn`, which also records them as sent."""
    try:
        await deliver(TelegramPort(bot, chat_id), [show(services, r) for r in replies])
    except Blocked:
        await services.store.set_active(chat_id, False)
        return False
    return True
