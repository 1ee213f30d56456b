"""The broadcast composer for broadcasters and admins: /diffusion (the list: diffusions.py).

The composer is a small state machine kept in the store (`broadcast_drafts`): text → audience
(criteria combined, live count) → when → preview → confirm. Buttons carry
`bc:<action>[:<value>]`; the preview's buttons carry a token of the exact draft they preview,
so an older preview can never send a newer draft. Labels and sentences live in
templates/broadcast/. Everyone else gets exactly the unknown-command answer (see guards.py).
"""

from __future__ import annotations

import hashlib
import html
import json
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from bot.auth import has_role
from bot.broadcast import (
    Variables,
    audience_choices,
    check_text,
    check_when,
    parse_when,
)
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.guards import requires
from store import Audience
from store.broadcasts import AUDIENCE_KEYS

BROADCASTER = "broadcaster"
PREFIX = "bc"


ANY = "*"  # button value: drop this criterion
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
    services = h.services_of(context)
    assert update.effective_chat is not None
    text = services.renderer.text(template, ctx or {})
    markup = keyboard(services, rows, ctx or {}) if rows else None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def _example(services: Services) -> str:
    later = services.clock().astimezone(services.election.tz) + timedelta(days=1)
    return later.strftime("%d/%m/%Y 18:00")


def _token(data: dict[str, Any]) -> str:
    """A short fingerprint of the exact draft a preview shows (text, audience, time)."""
    fields = {k: data.get(k) for k in ("text", "audience", "at")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def _audience(data: dict[str, Any]) -> Audience:
    return Audience.parse(data.get("audience") or "all")


@requires(BROADCASTER)
async def on_compose(update: Update, context: Context) -> None:
    """Starts a new broadcast: asks for its text."""
    await _save_step(update, context, "text", {})
    await say(update, context, "broadcast/ask_text.html", {}, [[("stop", None)]])


async def on_draft_text(update: Update, context: Context) -> None:
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
    now = services.clock()
    if step == "text":
        formatted = any(e.type in _FORMATTING for e in message.entities)
        text = message.text_html if formatted else message.text
        problem = check_text(text)
        if problem is not None:
            ctx = {"reason": problem.reason, "detail": problem.detail}
            await say(update, context, "broadcast/invalid.html", ctx, [[("stop", None)]])
        else:
            await _ask_audience(update, context, {"text": text, "audience": "all"})
    elif step == "when":
        at = parse_when(message.text, services.election)
        reason = "unreadable" if at is None else check_when(at, now, services.election)
        if at is None or reason is not None:
            await _bad_when(update, context, reason or "unreadable")
        else:
            await _preview(update, context, {**data, "at": at.isoformat()})
    else:
        await say(update, context, "broadcast/use_buttons.html", {}, [[("stop", None)]])
    raise ApplicationHandlerStop


async def _bad_when(update: Update, context: Context, reason: str) -> None:
    services = h.services_of(context)
    ctx = {"reason": reason, "example": _example(services)}
    await say(update, context, "broadcast/bad_when.html", ctx, [[("now", None)], [("stop", None)]])


async def _save_step(
    update: Update, context: Context, step: str, data: dict[str, Any]
) -> Services:
    """Remember the composer's step and choices for this broadcaster; the services, for more."""
    services = h.services_of(context)
    assert update.effective_user is not None
    await services.store.save_draft(update.effective_user.id, step, data, services.clock())
    return services


async def _ask_audience(update: Update, context: Context, data: dict[str, Any]) -> None:
    """The audience screen: the criteria chosen so far and how many voters they select now."""
    services = await _save_step(update, context, "audience", data)
    audience = _audience(data)
    count = await services.store.count_audience(audience)
    rows: Rows = [
        [("aud", "category"), ("aud", "departement")],
        [("aud", "not_done")],
        [("aud_ok", None)],
        [("stop", None)],
    ]
    ctx = {"audience": audience, "count": count}
    await say(update, context, "broadcast/ask_audience.html", ctx, rows)


async def _preview(update: Update, context: Context, data: dict[str, Any]) -> None:
    """The message exactly as voters will get it at the send time, then what confirming does."""
    services = h.services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    now = services.clock()
    await services.store.save_draft(user.id, "preview", data, now)
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    shown = Variables(services.renderer, services.election).fill(
        data["text"], user.first_name or "", at or now
    )
    await context.bot.send_message(
        chat.id,
        shown,
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    audience = _audience(data)
    ctx = {"count": await services.store.count_audience(audience), "audience": audience, "at": at}
    token = _token(data)
    rows: Rows = [[("ok", token)], [("test", token)], [("stop", None)]]
    await say(update, context, "broadcast/preview.html", ctx, rows)


@requires(BROADCASTER)
async def on_button(update: Update, context: Context) -> None:
    """A composer button (callback data `bc:...`; list and progress buttons: diffusions.py)."""
    services = h.services_of(context)
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    async with services.engine.lock(user.id):  # two quick taps never confirm twice
        await _press(update, context, query.data or "")


async def _press(update: Update, context: Context, data_: str) -> None:
    services = h.services_of(context)
    user = update.effective_user
    assert user is not None
    _, _, rest = data_.partition(":")
    action, _, value = rest.partition(":")
    store = services.store
    draft = await store.get_draft(user.id)
    step, data = draft if draft is not None else ("", {})
    if action == "stop":
        await store.delete_draft(user.id)
        await say(update, context, "broadcast/stopped.html")
    elif action in ("ok", "test") and (step != "preview" or value != _token(data)):
        await say(update, context, "broadcast/preview_expired.html", {"has_draft": bool(step)})
    elif action == "ok":
        await _confirm(update, context, data)
    elif action == "test":
        await _test_send(update, context, data)
    elif step == "audience" and action == "aud" and audience_choices(services.election, value):
        rows: Rows = [[(value, c)] for c in audience_choices(services.election, value)]
        rows += [[(value, ANY)], [("stop", None)]]
        await say(update, context, "broadcast/ask_choice.html", {"kind": value}, rows)
    elif (
        step == "audience"
        and action in AUDIENCE_KEYS
        and (value == ANY or value in audience_choices(services.election, action))
    ):
        criteria = dict(_audience(data).criteria)
        criteria.pop(action, None)
        if value != ANY:
            criteria[action] = value
        await _ask_audience(update, context, {**data, "audience": str(Audience(**criteria))})
    elif step == "audience" and action == "aud_ok":
        await _ask_when(update, context, data)
    elif step == "when" and action == "now":
        await _preview(update, context, {**data, "at": None})
    else:
        await say(update, context, "broadcast/button_expired.html", {"has_draft": bool(step)})


async def _ask_when(update: Update, context: Context, data: dict[str, Any]) -> None:
    services = await _save_step(update, context, "when", data)
    ctx = {"example": _example(services)}
    await say(update, context, "broadcast/ask_when.html", ctx, [[("now", None)], [("stop", None)]])


async def _test_send(update: Update, context: Context, data: dict[str, Any]) -> None:
    """Sends the previewed message to the broadcaster alone, as a voter would get it."""
    services = h.services_of(context)
    user = update.effective_user
    assert user is not None
    now = services.clock()
    at = datetime.fromisoformat(data["at"]) if data.get("at") else now
    text = Variables(services.renderer, services.election).fill(
        data["text"], user.first_name or "", at
    )
    await context.bot.send_message(
        user.id,
        text,
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    await say(update, context, "broadcast/test_sent.html")


async def _confirm(update: Update, context: Context, data: dict[str, Any]) -> None:
    services = h.services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    now = services.clock()
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    if at is not None and (reason := check_when(at, now, services.election)) is not None:
        await services.store.save_draft(user.id, "when", data, now)
        await _bad_when(update, context, reason)
        return
    audience = _audience(data)
    broadcast_id = await services.store.create_broadcast(
        data["text"], audience, at or now, now, created_by=user.id, report_chat=chat.id
    )
    await services.store.delete_draft(user.id)
    ctx = {
        "id": broadcast_id,
        "at": at,
        "text": data["text"],
        "audience": audience,
        "count": await services.store.count_audience(audience),
    }
    await say(update, context, "broadcast/confirmed.html", ctx)
    worker = context.bot_data.broadcaster
    if worker is not None:
        worker.wake()
