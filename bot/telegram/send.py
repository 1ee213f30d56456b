"""Turn engine replies into Bot API calls."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden

from bot.flows import Reply
from bot.services import Services

log = logging.getLogger(__name__)


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
    services: Services, bot, chat_id: int, replies: list[Reply], edit: Message | None = None
) -> bool:
    """Send replies in order; edit `edit` in place when there is exactly one. False if blocked."""
    try:
        for reply in replies:
            rendered = services.renderer.render(reply)
            markup = keyboard(services, reply, rendered.buttons)
            if edit is not None and len(replies) == 1:
                try:
                    await edit.edit_text(rendered.text, reply_markup=markup)
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        continue
                    log.info("could not edit message %s, sending a new one", edit.message_id)
            await bot.send_message(chat_id, rendered.text, reply_markup=markup)
    except Forbidden:
        await services.store.set_active(chat_id, False)
        return False
    return True
