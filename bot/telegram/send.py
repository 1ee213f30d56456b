"""Turn engine replies into Bot API calls."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.flows import Reply
from bot.services import Services
from bot.texts import Rendered

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5  # tries per Bot API call before the replies are left for redelivery
BACKOFF = 0.5  # seconds before the 2nd try, doubled each time (with jitter)
MAX_RETRY_AFTER = 30.0  # a longer 429 wait is not waited for here: redelivery will do
_sleep = asyncio.sleep  # replaced in tests


class Undelivered(Exception):
    """Telegram kept failing (5xx, time-outs, 429): `sent` replies of the update got through."""

    def __init__(self, sent: int) -> None:
        super().__init__(f"{sent} replies delivered before Telegram kept failing")
        self.sent = sent


async def with_retry(call: Callable[[], Awaitable[T]]) -> T:
    """Run one Bot API call, retrying time-outs, network errors and 5xx with backoff and
    honouring 429 retry_after; other errors (400, 403) are raised at once."""
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except BadRequest:
            raise
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            if attempt == ATTEMPTS - 1 or seconds > MAX_RETRY_AFTER:
                raise
            log.info("Telegram asks to wait %.0f s (429)", seconds)
            await _sleep(seconds)
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            if attempt == ATTEMPTS - 1:
                raise
            wait = BACKOFF * 2**attempt * random.uniform(0.8, 1.2)
            log.info("Bot API call failed (%s), retry in %.1f s", exc, wait)
            await _sleep(wait)
    raise AssertionError("unreachable")


def keyboard(services: Services, reply: Reply, rows) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a rendered reply, with versioned callback data."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=services.engine.callback_data(reply, t))
                for label, t in row
            ]
            for row in rows
        ]
    )


async def send_replies(
    services: Services,
    bot,
    chat_id: int,
    replies: list[Reply],
    edit: Message | None = None,
    skip: int = 0,
    rendered: list[Rendered] | None = None,
) -> bool:
    """Send replies in order (the first `skip` already went out); edit `edit` in place when
    there is exactly one. `rendered` may hold the replies already rendered. False if the
    voter blocked the bot; raises `Undelivered` when Telegram keeps failing."""
    sent = skip
    if rendered is None:
        rendered = [services.renderer.render(reply) for reply in replies]
    try:
        for reply, shown in list(zip(replies, rendered, strict=True))[skip:]:
            markup = keyboard(services, reply, shown.buttons)
            if edit is not None and len(replies) == 1:
                try:
                    await with_retry(partial(edit.edit_text, shown.text, reply_markup=markup))
                    sent += 1
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        sent += 1
                        continue
                    log.info("could not edit message %s, sending a new one", edit.message_id)
            await with_retry(partial(bot.send_message, chat_id, shown.text, reply_markup=markup))
            sent += 1
    except Forbidden:
        await services.store.set_active(chat_id, False)
        return False
    except (NetworkError, RetryAfter) as exc:
        raise Undelivered(sent) from exc
    return True
