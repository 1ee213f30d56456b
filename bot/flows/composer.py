"""The broadcast composer (/diffusion) as a flow: text → audience → when → preview → sent.

Not a voter flow: bot/telegram/broadcast.py fires it on its own shared machine, keeps the
step in the store's `broadcast_drafts` (`idle` and `sent` mean "no draft") and renders the
screens from templates/broadcast/. The front end puts the facts conditions read in
`Context.data`: `draft` (the stored choices), `pressed` (the button's value), `choices` (the
values allowed for the pressed criterion), `text_ok` and `when_ok` (the typed text and send
time passed their checks). A missing fact never lets a transition through.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.flows.base import Context, Flow, FlowMachine, Step, Transition

ANY = "*"  # a criterion's button value: drop this criterion
IDLE, SENT = "idle", "sent"
DRAFTS = ("text", "audience", "when", "preview")  # the steps stored as a draft
BUTTONS = ("stop", "ok", "test", "aud", "aud_ok", "now")  # pressed as `bc:<trigger>[:<value>]`
CRITERION = "criterion"  # pressed as `bc:<audience key>:<value>`
TYPED = "typed"  # text typed by the broadcaster
COMPOSE = "compose"  # the /diffusion command


def draft_token(draft: dict[str, Any]) -> str:
    """A short fingerprint of the exact draft a preview shows (text, audience, time)."""
    fields = {k: draft.get(k) for k in ("text", "audience", "at")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def token_matches(ctx: Context) -> bool:
    """True when the pressed preview button shows exactly the current draft."""
    pressed = ctx.data.get("pressed")
    return isinstance(pressed, str) and pressed == draft_token(ctx.data.get("draft") or {})


def has_choices(ctx: Context) -> bool:
    """True when the criterion asked for has values to pick from."""
    return bool(ctx.data.get("choices"))


def criterion_valid(ctx: Context) -> bool:
    """True when the pressed value drops the criterion or is one of its choices."""
    pressed = ctx.data.get("pressed")
    return pressed == ANY or pressed in (ctx.data.get("choices") or ())


def text_ok(ctx: Context) -> bool:
    """True when the typed text passed the checks (HTML, variables, length)."""
    return ctx.data.get("text_ok") is True


def when_ok(ctx: Context) -> bool:
    """True when the send time is readable, not past and before the vote closes (or now)."""
    return ctx.data.get("when_ok") is True


FLOW = Flow(
    name="composer",
    initial=IDLE,
    steps=(
        Step(IDLE),
        Step("text", buttons=("stop",), text=TYPED),
        Step("audience", buttons=("aud", CRITERION, "aud_ok", "stop")),
        Step("when", buttons=("now", "stop"), text=TYPED),
        Step("preview", buttons=("ok", "test", "stop")),
        Step(SENT),
    ),
    transitions=(
        *(Transition(COMPOSE, source, "text") for source in (IDLE, *DRAFTS)),
        *(Transition("stop", source, IDLE) for source in (IDLE, *DRAFTS)),
        Transition(TYPED, "text", "audience", conditions=(text_ok,)),
        Transition(TYPED, "text", "text"),
        Transition("aud", "audience", "audience", conditions=(has_choices,)),
        Transition(CRITERION, "audience", "audience", conditions=(criterion_valid,)),
        Transition("aud_ok", "audience", "when"),
        Transition(TYPED, "when", "preview", conditions=(when_ok,)),
        Transition(TYPED, "when", "when"),
        Transition("now", "when", "preview"),
        Transition("ok", "preview", SENT, conditions=(token_matches, when_ok)),
        Transition("ok", "preview", "when", conditions=(token_matches,)),
        Transition("test", "preview", "preview", conditions=(token_matches,)),
    ),
    final=(SENT,),
)

MACHINE = FlowMachine(FLOW)  # one machine shared by every broadcaster


def state_of(step: str | None) -> str:
    """The flow state of a stored draft step (no draft, or an unknown one: `idle`)."""
    return step if step in DRAFTS else IDLE
