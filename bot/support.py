"""Support logic shared by the Telegram adapter and the CLI: transcripts, stats, retention.

No Telegram calls here (they live in bot/telegram/support.py).
"""

from __future__ import annotations

import io
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.engine import Incoming, Outcome
from bot.flows import Flow, Reply
from bot.redact import redact
from bot.services import Services
from bot.texts import html_to_plain
from store.progress import ITEMS
from store.support import HandoffCounts, TranscriptLine

NOT_UNDERSTOOD = frozenset({"common/not_understood.html", "info/fallback.html"})
ATTACHMENT = "[attachment]"  # stored in transcripts in place of a photo, file or sticker
MISUNDERSTOOD_MIN = 3  # /bloques lists voters misunderstood this many times (kept transcripts)
CARD_LINES = 5  # transcript lines on a topic's summary card
STUCK_SHOWN = 6  # voters listed by /bloques (longest idle first), each with a button
VOTER_LINES = 8  # transcript lines shown by /voir
RELAY_BURST = 5  # a voter may have this many messages relayed…
RELAY_WINDOW = timedelta(minutes=1)  # …per this window; beyond, they are asked to wait
UNTRACKED_FLOWS = frozenset({"menu"})  # hubs, not procedures: no completion rate


def scrub(text: str) -> str:
    """The one place where text loses pasted secrets before it is stored or relayed."""
    return redact(text)[0]


def misunderstood(replies: Iterable[Reply]) -> bool:
    """Whether the bot answered "I did not understand"."""
    return any(r.template in NOT_UNDERSTOOD for r in replies)


async def record_turn(
    services: Services, msg: Incoming, outcome: Outcome, texts: list[str] | None = None
) -> None:
    """Keep a handled update for support: the voter's text and the bot's replies, scrubbed.

    `texts` are the replies as rendered for sending (rendered here when not given).
    """
    if outcome.duplicate:
        return
    now = services.engine.clock()
    lines = []
    if msg.kind == "text":
        text = scrub(msg.value)
        lines.append(TranscriptLine(msg.user_id, now, "in", text, misunderstood(outcome.replies)))
    if texts is None:
        texts = [services.renderer.render(reply).text for reply in outcome.replies]
    for text in texts:
        lines.append(TranscriptLine(msg.user_id, now, "out", scrub(html_to_plain(text))))
    if lines:
        await services.store.record_messages(lines)


class RateLimiter:
    """At most `burst` events per `window` for each key (sliding window, in memory)."""

    def __init__(self, burst: int = RELAY_BURST, window: timedelta = RELAY_WINDOW) -> None:
        self.burst, self.window = burst, window
        self._seen: dict[int, deque[datetime]] = defaultdict(deque)

    def allow(self, key: int, now: datetime) -> bool:
        """Count an event for `key`; False when it is over the limit (then it is not counted)."""
        seen = self._seen[key]
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) >= self.burst:
            return False
        seen.append(now)
        return True


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
        "first_name": user.first_name,
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


# -- statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowStats:
    """One procedure: voters who started it, finished it, and the step most left behind at."""

    flow: str
    started: int
    completed: int
    drop_step: str | None
    drop_count: int

    @property
    def rate(self) -> int:
        """Completion in whole percent."""
        return round(100 * self.completed / self.started) if self.started else 0


@dataclass(frozen=True)
class Stats:
    """Everything /stats and `votebot stats` show."""

    voters: int
    here: list[tuple[str, str, int]]  # voters at each step now, busiest first
    funnel: list[tuple[str, str, int, int]]  # (flow, step, reached, here) in flow order
    flows: list[FlowStats]
    handoffs: HandoffCounts

    @property
    def median_close(self) -> timedelta | None:
        """Median time from handoff to hand-back."""
        if not self.handoffs.durations:
            return None
        return timedelta(seconds=statistics.median(self.handoffs.durations))


def final_steps(flow: Flow) -> frozenset[str]:
    """The flow's final steps, else those with no way onward inside it (besides its first)."""
    if flow.final:
        return frozenset(flow.final)
    sources = {t.source for t in flow.transitions}
    return frozenset(s.name for s in flow.steps if s.name not in sources) - {flow.initial}


async def collect_stats(services: Services) -> Stats:
    """Funnel, completion, drop-off and handoff numbers from the store."""
    store = services.store
    flows = services.engine.flows
    here_rows = await store.step_counts()
    reach = {(f, s): n for f, s, n in await store.step_reach()}
    here = {(f, s): n for f, s, n in here_rows}
    starts = await store.flow_starts()
    funnel, per_flow = [], []
    for flow in flows:
        if flow.name in UNTRACKED_FLOWS:
            continue
        finals = final_steps(flow)
        for step in flow.steps:
            key = (flow.name, step.name)
            funnel.append((flow.name, step.name, reach.get(key, 0), here.get(key, 0)))
        started = starts.get(flow.name, 0)
        if not started:
            continue
        completed = sum(reach.get((flow.name, s), 0) for s in finals)
        waiting = [
            (here.get((flow.name, s.name), 0), s.name) for s in flow.steps if s.name not in finals
        ]
        count, step_name = max(waiting, default=(0, None))
        per_flow.append(
            FlowStats(
                flow.name, started, min(completed, started), step_name if count else None, count
            )
        )
    return Stats(
        voters=await store.count_users(),
        here=sorted(here_rows, key=lambda r: (-r[2], r[0], r[1])),
        funnel=funnel,
        flows=per_flow,
        handoffs=await store.handoff_counts(),
    )


def format_duration(value: timedelta | None) -> str:
    """A duration for staff: 2 h 05 min, 12 min, 40 s."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def stats_context(stats: Stats) -> dict[str, Any]:
    """The template context of support/stats.html."""
    return {
        "voters": stats.voters,
        "flows": stats.flows,
        "here": stats.here,
        "handoffs": stats.handoffs,
        "median": format_duration(stats.median_close),
    }


def funnel_chart(stats: Stats, legend: dict[str, str]) -> bytes:
    """The funnel as a PNG bar chart sized for a phone screen (texts in `legend`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [(f"{f} · {s}", reached, here) for f, s, reached, here in stats.funnel]
    rows = rows or [("—", 0, 0)]
    height = 1.2 + 0.45 * len(rows)
    fig = Figure(figsize=(6, height), dpi=160)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    labels = [r[0] for r in rows][::-1]
    reached = [r[1] for r in rows][::-1]
    here = [r[2] for r in rows][::-1]
    ax.barh(labels, reached, color="#4c78a8", label=legend["reached"])
    ax.barh(labels, here, color="#f58518", label=legend["here"])
    for y, value in enumerate(reached):
        ax.text(value, y, f" {value}", va="center", fontsize=9)
    ax.set_title(legend["title"], fontsize=12)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# -- retention ---------------------------------------------------------------------------


async def purge(services: Services, now: datetime | None = None) -> int:
    """Delete transcripts, closed handoffs and processed updates older than the retention."""
    now = now or services.engine.clock()
    before = now - timedelta(days=services.settings.retention_days)
    removed = await services.store.purge_transcripts(before)
    return removed + await services.store.purge_processed_updates(before)


def stuck_since(services: Services) -> datetime:
    """Voters with no step taken since this moment are stuck."""
    return services.engine.clock() - timedelta(hours=services.settings.stuck_hours)
