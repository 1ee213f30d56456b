"""The broadcast composer for broadcasters and admins: /diffusion (the list: diffusions.py).

Which step comes next is decided by the composer flow (bot/flows/composer.py: text → audience
(criteria combined, live count) → when → preview → sent); this module supplies the facts its
conditions read, keeps the step in the store (`broadcast_drafts`) and shows each screen.
Buttons carry `bc:<action>[:<value>]`; the preview's buttons carry a token of the exact draft
they preview, so an older preview can never send a newer draft. Labels and sentences live in
templates/broadcast/. Everyone else gets exactly the unknown-command answer (see guards.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import LinkPreviewOptions, Update
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
from bot.flows import composer
from bot.flows.base import Context as FlowContext
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.broadcast_ui import BROADCASTER, Rows, say
from bot.telegram.context import Context
from bot.telegram.guards import requires
from store import Audience
from store.broadcasts import AUDIENCE_KEYS

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


def _example(services: Services) -> str:
    later = services.clock().astimezone(services.election.tz) + timedelta(days=1)
    return later.strftime("%d/%m/%Y 18:00")


def _fire(
    services: Services, step: str, trigger: str, facts: dict[str, Any], now: datetime
) -> str | None:
    """The composer step `trigger` leads to from the stored `step`, or None if nothing fires."""
    ctx = FlowContext(now=now, phase=services.election.phase(now), data=facts)
    return composer.MACHINE.fire(composer.state_of(step), trigger, ctx)


def _audience(data: dict[str, Any]) -> Audience:
    return Audience.parse(data.get("audience") or "all")


@requires(BROADCASTER)
async def on_compose(update: Update, context: Context) -> None:
    """Starts a new broadcast: asks for its text."""
    services = h.services_of(context)
    assert update.effective_user is not None
    draft = await services.store.get_draft(update.effective_user.id)
    step = _fire(services, draft[0] if draft else "", composer.COMPOSE, {}, services.clock())
    assert step == "text"  # from any step (tests/test_composer.py)
    await _save_step(update, context, step, {})
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
    formatted = any(e.type in _FORMATTING for e in message.entities)
    text = message.text_html if formatted else message.text
    problem = check_text(text)  # read by the flow at the text step
    at = parse_when(message.text, services.election)  # read by the flow at the when step
    reason = "unreadable" if at is None else check_when(at, now, services.election)
    facts = {"draft": data, "text_ok": problem is None, "when_ok": reason is None}
    dest = _fire(services, step, composer.TYPED, facts, now)
    if dest == "audience":
        await _ask_audience(update, context, {"text": text, "audience": "all"})
    elif dest == "text":
        assert problem is not None  # the flow stays at "text" only when the text is refused
        ctx = {"reason": problem.reason, "detail": problem.detail}
        await say(update, context, "broadcast/invalid.html", ctx, [[("stop", None)]])
    elif dest == "preview":
        assert at is not None  # the flow moves on only when the time is accepted
        await _preview(update, context, {**data, "at": at.isoformat()})
    elif dest == "when":
        await _bad_when(update, context, reason or "unreadable")
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
    token = composer.draft_token(data)
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


@dataclass(frozen=True)
class _Press:
    """A composer button pressed, once the flow has said where it leads."""

    action: str
    value: str
    data: dict[str, Any]
    dest: str
    now: datetime
    why: str | None  # why the send time can no longer be used (on "ok")


async def _press(update: Update, context: Context, data_: str) -> None:
    """Fires the composer flow for a pressed button, then shows where it led (or "expired")."""
    services = h.services_of(context)
    user = update.effective_user
    assert user is not None
    _, _, rest = data_.partition(":")
    action, _, value = rest.partition(":")
    draft = await services.store.get_draft(user.id)
    step, data = draft if draft is not None else ("", {})
    now = services.clock()
    trigger = _trigger(action)
    why = None
    if action == "ok" and data.get("at"):
        why = check_when(datetime.fromisoformat(data["at"]), now, services.election)
    facts = {
        "draft": data,
        "pressed": value,
        "choices": audience_choices(services.election, value if action == "aud" else action),
        "when_ok": why is None,
    }
    dest = None if trigger is None else _fire(services, step, trigger, facts, now)
    if trigger is None or dest is None:
        expired = "preview_expired" if action in ("ok", "test") else "button_expired"
        await say(update, context, f"broadcast/{expired}.html", {"has_draft": bool(step)})
        return
    await _ARRIVALS[trigger](update, context, _Press(action, value, data, dest, now, why))


def _trigger(action: str) -> str | None:
    """The composer trigger a button's action fires (None: not a composer button)."""
    if action in AUDIENCE_KEYS:
        return composer.CRITERION
    return action if action in composer.BUTTONS else None


async def _stop(update: Update, context: Context, press: _Press) -> None:
    """Drops the draft."""
    assert update.effective_user is not None
    await h.services_of(context).store.delete_draft(update.effective_user.id)
    await say(update, context, "broadcast/stopped.html")


async def _ask_choice(update: Update, context: Context, press: _Press) -> None:
    """The values of one audience criterion, and "any"."""
    choices = audience_choices(h.services_of(context).election, press.value)
    rows: Rows = [[(press.value, c)] for c in choices]
    rows += [[(press.value, composer.ANY)], [("stop", None)]]
    await say(update, context, "broadcast/ask_choice.html", {"kind": press.value}, rows)


async def _set_criterion(update: Update, context: Context, press: _Press) -> None:
    """Sets or drops one audience criterion, then shows the audience again."""
    criteria = dict(_audience(press.data).criteria)
    criteria.pop(press.action, None)
    if press.value != composer.ANY:
        criteria[press.action] = press.value
    data = {**press.data, "audience": str(Audience(**criteria))}
    await _ask_audience(update, context, data)


async def _ask_when(update: Update, context: Context, data: dict[str, Any]) -> None:
    services = await _save_step(update, context, "when", data)
    ctx = {"example": _example(services)}
    await say(update, context, "broadcast/ask_when.html", ctx, [[("now", None)], [("stop", None)]])


async def _test_send(update: Update, context: Context, press: _Press) -> None:
    """Sends the previewed message to the broadcaster alone, as a voter would get it."""
    services = h.services_of(context)
    user, data = update.effective_user, press.data
    assert user is not None
    at = datetime.fromisoformat(data["at"]) if data.get("at") else press.now
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


async def _confirm(update: Update, context: Context, press: _Press) -> None:
    """Creates the broadcast, or asks for another time if the draft's one has passed."""
    services = h.services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    data, now = press.data, press.now
    if press.dest != composer.SENT:  # the flow went back to "when": the time has passed
        await services.store.save_draft(user.id, press.dest, data, now)
        await _bad_when(update, context, press.why or "past")
        return
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
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


# What each composer trigger shows once the flow has said where it leads.
_ARRIVALS: dict[str, Callable[[Update, Context, _Press], Awaitable[None]]] = {
    "stop": _stop,
    "ok": _confirm,
    "test": _test_send,
    "aud": _ask_choice,
    composer.CRITERION: _set_criterion,
    "aud_ok": lambda update, context, press: _ask_when(update, context, press.data),
    "now": lambda update, context, press: _preview(update, context, {**press.data, "at": None}),
}
