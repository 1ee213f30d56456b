"""One voter's turn, whatever the front end: load → fire → commit → render → send through a
port → mark sent → effects (transcript, handoff).

A front end supplies only a `Port` (send, edit, effects); Telegram and the terminal get the
same bookkeeping by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import inbox
from bot.engine import Incoming, Outcome
from bot.flows import Reply
from bot.services import Services
from bot.support import transcript_of

log = logging.getLogger(__name__)

Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback data)


@dataclass(frozen=True)
class Shown:
    """A reply ready to show: HTML text and rows of (label, callback data) buttons."""

    text: str
    buttons: Buttons = ()


class Unreachable(Exception):
    """The platform kept failing: the reply did not get through (try again later)."""


class Blocked(Exception):
    """The voter blocked the bot: nothing can reach them."""


class Port(Protocol):
    """What a front end offers a turn."""

    async def send(self, shown: Shown) -> None:
        """Show a new message (raises `Unreachable` or `Blocked`)."""

    async def edit(self, shown: Shown) -> bool:
        """Replace the message the voter acted on; False when there is none to replace."""

    async def effect(self, name: str) -> None:
        """Run a front-end effect a step asked for (e.g. "handoff")."""


def show(services: Services, reply: Reply) -> Shown:
    """Render a reply and give each button its versioned callback data."""
    rendered = services.renderer.render(reply)
    rows = tuple(
        tuple((label, services.engine.callback_data(reply, trigger)) for label, trigger in row)
        for row in rendered.buttons
    )
    return Shown(rendered.text, rows)


async def deliver(port: Port, shown: Sequence[Shown], edit: bool = False, skip: int = 0) -> int:
    """Send replies in order, the first `skip` already out; a single reply to a button press
    replaces its message. Returns how many got through before `Unreachable` (re-raised with
    that count as its argument) or the end."""
    sent = skip
    for item in shown[skip:]:
        try:
            if not (edit and len(shown) == 1 and await port.edit(item)):
                await port.send(item)
        except Unreachable as exc:
            raise Unreachable(sent) from exc
        sent += 1
    return sent


async def run_turn(services: Services, msg: Incoming, port: Port, edit: bool = False) -> Outcome:
    """Handle one thing a voter did, from their stored state to the effects of the step."""
    engine = services.engine
    job = inbox.current.get()
    if job is not None and job.update_id != msg.update_id:
        job = None
    leased = None  # the voter's state read with the lease: used once, by this turn only
    if job is not None and job.voter == msg.user_id:
        leased, job.turn = job.turn, None
    # The voter's updates one at a time; and at most REPLYING turns anywhere between storing
    # their replies (the step's commit) and recording them as sent (`engine.replied`).
    async with engine.lock(msg.user_id), engine.replying:
        outcome = await engine.handle(msg, leased)
        if outcome.duplicate:
            log.info("update %s already answered, ignored", msg.update_id)
            return outcome
        shown = [show(services, reply) for reply in outcome.replies]
        # Transcript for support (secrets removed), from the texts about to be sent: stored
        # with the "replies sent" record, in its transaction.
        transcript = transcript_of(services, msg, outcome, [s.text for s in shown])
        try:
            await deliver(port, shown, edit, job.skip if job is not None else 0)
        except Unreachable as exc:
            # Left in the inbox: the stored replies go out again when it is handled again.
            log.warning("update %s: unreachable, replies kept", msg.update_id)
            if job is not None:
                job.unsent, job.skip = True, int(exc.args[0]) if exc.args else 0
            return outcome
        except Blocked:
            await services.store.set_active(msg.user_id, False)
        await engine.replied(msg.update_id, transcript)  # finishes the update in the inbox too
        if job is not None:
            job.finished = msg.update_id is not None
        for effect in outcome.effects:
            await port.effect(effect)
    return outcome
