"""The figures behind /stats and `votebot stats`: the guide funnel, completion per procedure,
handoffs and each agent's response times. No Telegram here; the chart is drawn to PNG bytes."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.flows import Flow
from bot.services import Services
from store.helpdesk import AgentTimes
from store.support import HandoffCounts

# Procedures of the guide; hubs and settings (menu, profile, reminders…) have no completion.
UNTRACKED_FLOWS = frozenset({"menu", "profile", "reminders", "info", "human", "progress"})
# The guide funnel, in the order a voter walks it: ("flow", name) = voters who started that
# procedure, ("item", name) = voters who ticked that checklist item or a later one.
GUIDE_FUNNEL: tuple[tuple[str, str], ...] = (
    ("all", "started"),
    ("flow", "webmel"),
    ("item", "identifier"),
    ("flow", "portal"),
    ("item", "account"),
    ("flow", "notice"),
    ("item", "vote_code"),
    ("flow", "vote"),
    ("item", "voted"),
)
CHART_WIDTH_PX = 1280  # Telegram's largest photo side: the chart is never scaled up
CHART_DPI = 160


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
class AgentStats:
    """One agent's medians (first response, resolution) and satisfaction."""

    name: str
    handled: int
    first_response: timedelta | None
    resolution: timedelta | None
    up: int
    down: int


@dataclass(frozen=True)
class Stats:
    """Everything /stats and `votebot stats` show."""

    voters: int
    here: list[tuple[str, str, int]]  # voters at each step now, busiest first
    funnel: list[tuple[str, str, int, int]]  # (flow, step, reached, here) in flow order
    flows: list[FlowStats]
    handoffs: HandoffCounts
    guide: list[tuple[str, int]]  # GUIDE_FUNNEL keys (flow or item name) and voters
    agents: list[AgentStats]

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


def _median(values: tuple[float, ...]) -> timedelta | None:
    return timedelta(seconds=statistics.median(values)) if values else None


def agent_stats(rows: list[AgentTimes]) -> list[AgentStats]:
    """Per agent: handled, median first response and resolution, 👍/👎; busiest first."""
    out = [
        AgentStats(
            a.agent_name or str(a.agent_id),
            max(len(a.first_response), len(a.resolution)),
            _median(a.first_response),
            _median(a.resolution),
            a.up,
            a.down,
        )
        for a in rows
    ]
    return sorted(out, key=lambda a: (-a.handled, a.name))


async def collect_stats(services: Services) -> Stats:
    """Funnel, completion, drop-off, handoff and agent numbers from the store."""
    store = services.store
    flows = services.engine.flows
    here_rows = await store.step_counts()
    reach = {(f, s): n for f, s, n in await store.step_reach()}
    here = {(f, s): n for f, s, n in here_rows}
    starts = await store.flow_starts()
    funnel, per_flow = [], []
    for flow in flows:
        if flow.name == "menu":
            continue
        for step in flow.steps:
            key = (flow.name, step.name)
            funnel.append((flow.name, step.name, reach.get(key, 0), here.get(key, 0)))
        started = starts.get(flow.name, 0)
        if not started or flow.name in UNTRACKED_FLOWS:
            continue
        finals = final_steps(flow)
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
    voters = await store.count_users()
    reached = await store.progress_reached()
    guide = [
        (
            name,
            voters if kind == "all" else starts.get(name, 0) if kind == "flow" else reached[name],
        )
        for kind, name in GUIDE_FUNNEL
    ]
    return Stats(
        voters=voters,
        here=sorted(here_rows, key=lambda r: (-r[2], r[0], r[1])),
        funnel=funnel,
        flows=per_flow,
        handoffs=await store.handoff_counts(),
        guide=guide,
        agents=agent_stats(await store.agent_times()),
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
        "agents": [
            {
                "agent": a,
                "first": format_duration(a.first_response),
                "resolution": format_duration(a.resolution),
            }
            for a in stats.agents
        ],
    }


def funnel_chart(stats: Stats, labels: dict[str, str]) -> bytes:
    """The guide funnel as a PNG bar chart, 1,280 px wide, one bar per guide step (≤ 12).

    `labels` maps "title", "legend" and each GUIDE_FUNNEL name to its text (templates).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = stats.guide[::-1]
    width = CHART_WIDTH_PX / CHART_DPI
    fig = Figure(figsize=(width, 1.9 + 0.62 * len(rows)), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    names = [labels.get(name, name) for name, _ in rows]
    values = [value for _, value in rows]
    colors = ["#4c78a8" if kind == "flow" else "#54a24b" for kind, _ in GUIDE_FUNNEL[::-1]]
    ax.barh(names, values, color=colors[: len(rows)])
    top = max(values, default=0) or 1
    first = stats.guide[0][1] if stats.guide else 0
    for y, value in enumerate(values):
        share = f" ({round(100 * value / first)} %)" if first else ""
        ax.text(value + top * 0.01, y, f"{value}{share}", va="center", fontsize=13)
    ax.set_xlim(0, top * 1.3)
    ax.set_title(labels["title"], fontsize=17, loc="left")
    ax.set_xlabel(labels["legend"], fontsize=12)
    ax.tick_params(axis="y", labelsize=14)
    ax.tick_params(axis="x", labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
