"""Broadcast commands for broadcasters and admins: /diffusion (composer), /diffusions.

The composer is a small state machine kept in the store (`broadcast_drafts`): text → audience
→ when → preview → confirm. Buttons carry `bc:<action>[:<value>]`; labels and sentences live in
templates/broadcast/. Everyone else gets exactly the unknown-command answer (see guards.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.auth import has_role
from bot.broadcast import (
    Variables,
    audience_choices,
    check_text,
    parse_audience,
    parse_when,
)
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.guards import requires

BROADCASTER = "broadcaster"
PREFIX = "bc"
_FORMATTING = {
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "code",
    "pre",
    "text_link",
    "blockquote",
    "expandable_blockquote",
}


def _keyboard(
    services: Services, rows: list[list[tuple[str, str | None]]]
) -> InlineKeyboardMarkup:
    """Rows of (trigger, value) as buttons labelled from broadcast/_buttons.html."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    services.renderer.label("broadcast/_buttons.html", trigger, {"value": value}),
                    callback_data=f"{PREFIX}:{trigger}" + (f":{value}" if value else ""),
                )
                for trigger, value in row
            ]
            for row in rows
        ]
    )


async def _say(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    ctx: dict[str, Any] | None = None,
    rows: list[list[tuple[str, str | None]]] | None = None,
) -> None:
    services = h.services_of(context)
    assert update.effective_chat is not None
    text = services.renderer.text(template, ctx or {})
    markup = _keyboard(services, rows) if rows else None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def _example(services: Services) -> str:
    later = services.engine.clock().astimezone(services.election.tz) + timedelta(days=1)
    return later.strftime("%d/%m/%Y 18:00")


@requires(BROADCASTER)
async def on_compose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Starts a new broadcast: asks for its text."""
    services = h.services_of(context)
    assert update.effective_user is not None
    await services.store.save_draft(update.effective_user.id, "text", {}, services.engine.clock())
    await _say(update, context, "broadcast/ask_text.html", {}, [[("stop", None)]])


@requires(BROADCASTER)
async def on_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the latest broadcasts with a button to inspect each."""
    services = h.services_of(context)
    rows = await services.store.list_broadcasts(limit=10)
    buttons = [[("show", str(b.id)) for b in rows[i : i + 5]] for i in range(0, len(rows), 5)]
    await _say(update, context, "broadcast/list.html", {"rows": rows}, buttons)


async def on_draft_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text typed by a broadcaster in the composer (other text goes on to the engine)."""
    services = h.services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not message.text:
        return
    draft = await services.store.get_draft(user.id)
    if draft is None:
        return
    if not await has_role(services, user.id, BROADCASTER):
        await services.store.delete_draft(user.id)
        return
    step, data = draft
    now = services.engine.clock()
    if step == "text":
        formatted = any(e.type in _FORMATTING for e in message.entities)
        text = message.text_html if formatted else message.text
        problem = check_text(text)
        if problem is not None:
            ctx = {"reason": problem.reason, "detail": problem.detail}
            await _say(update, context, "broadcast/invalid.html", ctx)
        else:
            await services.store.save_draft(user.id, "audience", {"text": text}, now)
            await _ask_audience(update, context)
    elif step == "when":
        at = parse_when(message.text, services.election)
        if at is None or at <= now:
            ctx = {"past": at is not None, "example": _example(services)}
            await _say(update, context, "broadcast/bad_when.html", ctx, [[("now", None)]])
        else:
            data["at"] = at.isoformat()
            await _preview(update, context, data)
    else:
        await _say(update, context, "broadcast/use_buttons.html")
    raise ApplicationHandlerStop


async def _ask_audience(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = [
        [("aud_all", None)],
        [("aud_category", None), ("aud_departement", None)],
        [("aud_progress", None)],
        [("stop", None)],
    ]
    await _say(update, context, "broadcast/ask_audience.html", {}, rows)


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]
) -> None:
    services = h.services_of(context)
    assert update.effective_user is not None and update.effective_chat is not None
    await services.store.save_draft(
        update.effective_user.id, "preview", data, services.engine.clock()
    )
    audience = parse_audience(data["audience"], services.election)
    variables = Variables(services.renderer, services.election)
    shown = variables.fill(
        data["text"], update.effective_user.first_name or "", services.engine.clock()
    )
    await context.bot.send_message(
        update.effective_chat.id,
        shown,
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    ctx = {
        "count": await services.store.count_audience(audience),
        "kind": audience.kind,
        "value": audience.value,
        "at": datetime.fromisoformat(data["at"]) if data.get("at") else None,
    }
    await _say(update, context, "broadcast/preview.html", ctx, [[("ok", None)], [("stop", None)]])


@requires(BROADCASTER)
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A composer or list button (callback data `bc:...`)."""
    services = h.services_of(context)
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    _, _, rest = (query.data or "").partition(":")
    action, _, value = rest.partition(":")
    store, now = services.store, services.engine.clock()
    if action == "show" and value.isdigit():
        await _show(update, context, int(value))
        return
    if action == "cancel" and value.isdigit():
        await store.cancel_broadcast(int(value), now)
        await _show(update, context, int(value))
        return
    draft = await store.get_draft(user.id)
    if draft is None:
        await _say(update, context, "common/expired.html")
        return
    step, data = draft
    if action == "stop":
        await store.delete_draft(user.id)
        await _say(update, context, "broadcast/stopped.html")
    elif step == "audience" and action == "aud_all":
        await _ask_when(update, context, {**data, "audience": "all"})
    elif step == "audience" and action.startswith("aud_"):
        kind = action.removeprefix("aud_")
        choices = audience_choices(services.election, kind)
        rows = [[(kind, c)] for c in choices] + [[("stop", None)]]
        await _say(update, context, "broadcast/ask_choice.html", {"kind": kind}, rows)
    elif step == "audience" and value in audience_choices(services.election, action):
        await _ask_when(update, context, {**data, "audience": f"{action}={value}"})
    elif step == "when" and action == "now":
        await _preview(update, context, {**data, "at": None})
    elif step == "preview" and action == "ok":
        await _confirm(update, context, data)
    else:
        await _say(update, context, "common/expired.html")


async def _ask_when(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]
) -> None:
    services = h.services_of(context)
    assert update.effective_user is not None
    await services.store.save_draft(
        update.effective_user.id, "when", data, services.engine.clock()
    )
    ctx = {"example": _example(services)}
    await _say(
        update, context, "broadcast/ask_when.html", ctx, [[("now", None)], [("stop", None)]]
    )


async def _confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]
) -> None:
    services = h.services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    now = services.engine.clock()
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    broadcast_id = await services.store.create_broadcast(
        data["text"],
        parse_audience(data["audience"], services.election),
        at or now,
        now,
        created_by=user.id,
        report_chat=chat.id,
    )
    await services.store.delete_draft(user.id)
    await _say(update, context, "broadcast/confirmed.html", {"id": broadcast_id, "at": at})
    worker = context.application.bot_data.get("broadcaster")
    if worker is not None:
        worker.wake()


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, broadcast_id: int) -> None:
    services = h.services_of(context)
    b = await services.store.get_broadcast(broadcast_id)
    if b is None:
        await _say(update, context, "common/expired.html")
        return
    counts = await services.store.broadcast_counts(b.id)
    rows = [[("cancel", str(b.id))]] if b.state in ("planned", "scheduled", "sending") else []
    await _say(update, context, "broadcast/show.html", {"b": b, "counts": counts}, rows)
