"""The broadcasters' screens: the composer (broadcast.py) and the list (diffusions.py)
send their sentences and buttons through here; labels come from broadcast/_buttons.html."""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.context import Context

BROADCASTER = "broadcaster"
PREFIX = "bc"

Rows = list[list[tuple[str, str | None]]]


def keyboard(services: Services, rows: Rows, ctx: dict[str, Any]) -> InlineKeyboardMarkup:
    """Rows of (trigger, value) as buttons labelled from broadcast/_buttons.html."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    html.unescape(  # labels are plain text, not HTML
                        services.renderer.label(
                            "broadcast/_buttons.html", trigger, {**ctx, "value": value}
                        )
                    ),
                    callback_data=f"{PREFIX}:{trigger}" + (f":{value}" if value else ""),
                )
                for trigger, value in row
            ]
            for row in rows
        ]
    )


async def say(
    update: Update,
    context: Context,
    template: str,
    ctx: dict[str, Any] | None = None,
    rows: Rows | None = None,
) -> None:
    """Send a broadcast/ template to the chat, with its buttons."""
    services = h.services_of(context)
    assert update.effective_chat is not None
    text = services.renderer.text(template, ctx or {})
    markup = keyboard(services, rows, ctx or {}) if rows else None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
