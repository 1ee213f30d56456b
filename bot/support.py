"""Support logic shared by the Telegram adapter and the CLI: transcripts, summaries, retention.

No Telegram calls here (they live in bot/telegram/handoff.py and relay.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.engine import Incoming, Outcome
from bot.flows import Reply
from bot.flows.roll import RESULTS as ROLL_RESULTS
from bot.redact import plain_name, redact
from bot.services import Services
from bot.stats import (  # re-exported: the figures moved to bot/stats.py
    FlowStats,
    Stats,
    collect_stats,
    final_steps,
    format_duration,
    funnel_chart,
    stats_context,
)
from bot.texts import html_to_plain
from store import Store
from store.progress import ITEMS
from store.support import Handoff, TranscriptLine

NOT_UNDERSTOOD = frozenset({"common/not_understood.html", "info/fallback.html"})
ATTACHMENT = "[attachment]"  # stored in transcripts in place of a photo, file or sticker
MISUNDERSTOOD_MIN = 3  # /bloques lists voters misunderstood this many times (kept transcripts)
CARD_LINES = 5  # transcript lines on a topic's summary card
STUCK_SHOWN = 6  # voters listed by /bloques (longest idle first), each with a button
VOTER_LINES = 8  # transcript lines shown by /voir
RELAY_BURST = 5  # a voter may have this many messages relayed…
RELAY_WINDOW = timedelta(minutes=1)  # …per this window; beyond, they are asked to wait


def scrub(text: str) -> str:
    """The one place where text loses pasted secrets before it is stored or relayed."""
    return redact(text)[0]


ROLL_PLACEHOLDER = "[name looked up in the roll]"


def misunderstood(replies: Iterable[Reply]) -> bool:
    """Whether the bot answered "I did not understand"."""
    return any(r.template in NOT_UNDERSTOOD for r in replies)


def transcript_of(
    services: Services, msg: Incoming, outcome: Outcome, texts: list[str] | None = None
) -> list[TranscriptLine]:
    """A handled update as support sees it: the voter's text and the bot's replies, scrubbed.

    `texts` are the replies as rendered for sending (rendered here when not given).
    """
    if outcome.duplicate:
        return []
    now = services.clock()
    lines = []
    if msg.kind == "text":
        # A name looked up in the electoral roll is personal data: not kept for support.
        looked_up = any(r.flow == "roll" and r.state in ROLL_RESULTS for r in outcome.replies)
        text = ROLL_PLACEHOLDER if looked_up else scrub(msg.value)
        lines.append(TranscriptLine(msg.user_id, now, "in", text, misunderstood(outcome.replies)))
    if texts is None:
        texts = [services.renderer.render(reply).text for reply in outcome.replies]
    for text in texts:
        lines.append(TranscriptLine(msg.user_id, now, "out", _reply_line(text)))
    return lines


@lru_cache(maxsize=2048)
def _reply_line(text: str) -> str:
    """A reply as a transcript line: plain text, scrubbed. Replies repeat from one voter to
    the next (the same step, the same profile), so each distinct text is scrubbed once."""
    return scrub(html_to_plain(text))


async def record_turn(
    services: Services, msg: Incoming, outcome: Outcome, texts: list[str] | None = None
) -> None:
    """Keep a handled update for support (`transcript_of`), in a transaction of its own."""
    lines = transcript_of(services, msg, outcome, texts)
    if lines:
        await services.store.record_messages(lines)


async def relay_allowed(store: Store, handoff: Handoff, now: datetime) -> bool:
    """Whether the voter may have one more message relayed: fewer than RELAY_BURST of their
    messages stored in the last RELAY_WINDOW of this handoff (read from the database, so every
    replica applies the same limit; held messages count too)."""
    since = max(now - RELAY_WINDOW, handoff.opened_at - timedelta(microseconds=1))
    return await store.count_messages_since(handoff.user_id, "in", since) < RELAY_BURST


# -- summaries ---------------------------------------------------------------------------


async def voter_summary(services: Services, user_id: int, lines: int) -> dict[str, Any] | None:
    """What support sees about a voter (card, /voir), or None if the bot does not know them.

    Steps come with their labels, times in Europe/Paris; `stuck_at` is the guide step the
    voter was at before asking for a person.
    """
    store = services.store
    user = await store.get_user(user_id)
    if user is None:
        return None
    conv = await store.load_conversation(user_id)
    done = await store.progress_of(user_id)
    handoff = await store.open_handoff_of(user_id)
    flow, state = (conv.flow, conv.state) if conv else ("menu", "welcome")
    before = await store.step_before_handoff(user_id)
    tz = services.election.tz
    return {
        "user_id": user_id,
        "first_name": plain_name(user.first_name),
        "category": user.category,
        "departement": user.departement,
        "flow": flow,
        "state": state,
        "step_label": step_label(services, flow, state),
        "stuck_at": step_label(services, *before) if before else None,
        "checklist": [(item, item in done) for item in ITEMS],
        "done": [item for item in ITEMS if item in done],
        "lines": [
            replace(x, at=x.at.astimezone(tz)) for x in await store.transcript(user_id, lines)
        ],
        "handoff": handoff is not None,
        "agent_name": handoff.agent_name if handoff else None,
        "active": user.active,
        "last_seen": user.last_seen.astimezone(tz),
        "known": True,
    }


def step_label(services: Services, flow: str, step: str) -> str:
    """A guide step as staff read it: the procedure's menu label, then the step's first line."""
    renderer = services.renderer
    try:
        name = html_to_plain(renderer.label("menu/_buttons.html", flow))
    except KeyError:
        name = flow
    context = {
        "data": {},
        "profile": {"first_name": "", "category": None, "departement": None, "reminders": None},
        "progress": [],
    }
    try:
        text = html_to_plain(renderer.text(f"{flow}/{step}.html", context))
    except Exception:  # a step whose template needs data of its own: its name will do
        return f"{name} › {step}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), step)
    return f"{name} › {first[:60]}{'…' if len(first) > 60 else ''}"


# -- retention ---------------------------------------------------------------------------


async def purge(services: Services, now: datetime | None = None) -> int:
    """Delete transcripts, closed handoffs and processed updates older than the retention."""
    now = now or services.clock()
    before = now - timedelta(days=services.settings.retention_days)
    removed = await services.store.purge_transcripts(before)
    return removed + await services.store.purge_processed_updates(before)


def stuck_since(services: Services) -> datetime:
    """Voters with no step taken since this moment are stuck."""
    return services.clock() - timedelta(hours=services.settings.stuck_hours)


__all__ = [
    "FlowStats",
    "Stats",
    "collect_stats",
    "final_steps",
    "format_duration",
    "funnel_chart",
    "stats_context",
]
