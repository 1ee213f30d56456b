"""Flows as data: steps, transitions and pure conditions on one shared machine per flow kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transitions import Machine

Condition = Callable[["Context"], bool]
Action = Callable[["Context"], None]


@dataclass(frozen=True)
class Context:
    """What conditions read and actions change: clock, phase, profile, checklist, flow data."""

    now: datetime
    phase: str
    profile: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    progress: set[str] = field(default_factory=set)
    features: frozenset[str] = frozenset()  # optional services switched on (e.g. "support")
    user_id: int | None = None  # who is asking (rate limits, audit); None in pure tests


@dataclass(frozen=True)
class Step:
    """One state of a flow: its template is `<flow>/<name>.html`, its buttons are triggers."""

    name: str
    buttons: tuple[str, ...] = ()
    goto: Mapping[str, str] = field(default_factory=dict)  # trigger → "flow" or "flow.state"
    text: str | None = None  # name of the text handler for what the voter types at this step
    enter: tuple[Action, ...] = ()  # actions run whenever the voter arrives at this step
    effect: str | None = None  # a front-end effect requested on arrival (e.g. "handoff")
    show: Mapping[str, Condition] = field(default_factory=dict)  # trigger → shown only if true
    columns: int = 1  # buttons per row (short labels only)
    # A screen of the router's own (fallback, "did you mean"): "Retour" never lands on it.
    transient: bool = False
    order: Callable[[Context], tuple[str, ...]] | None = None  # buttons in a per-voter order


@dataclass(frozen=True)
class Transition:
    """A trigger moving from source to dest when every condition holds, then running actions."""

    trigger: str
    source: str
    dest: str
    conditions: tuple[Condition, ...] = ()
    after: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A procedure of the voter guide as data."""

    name: str
    initial: str
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...] = ()
    final: tuple[str, ...] = ()  # steps that mean "this procedure is done" (for funnels)

    def step(self, name: str) -> Step:
        """The step called `name`."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name}.{name}")

    def has_step(self, name: str) -> bool:
        """Whether this flow has a step called `name`."""
        return any(step.name == name for step in self.steps)

    def triggers(self, state: str) -> tuple[str, ...]:
        """Every trigger a voter can fire from `state` (buttons and jumps)."""
        step = self.step(state)
        return tuple(dict.fromkeys((*step.buttons, *step.goto)))


@dataclass(frozen=True)
class Reply:
    """What a step answers: a template, its context and rows of button triggers.

    A button's label is block `btn_<trigger>` of the template, else of `<flow>/_buttons.html`,
    else of `common/buttons.html`.
    """

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[str, ...], ...] = ()
    flow: str | None = None
    state: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, so unsent replies can be stored and sent after a crash."""
        return {
            "template": self.template,
            "context": dict(self.context),
            "buttons": [list(row) for row in self.buttons],
            "flow": self.flow,
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Reply:
        """The reverse of `to_dict`."""
        return cls(
            template=raw["template"],
            context=raw.get("context", {}),
            buttons=tuple(tuple(row) for row in raw["buttons"]),
            flow=raw.get("flow"),
            state=raw.get("state"),
        )


class _Model:
    """The one model of a shared machine, put in a voter's state for each event fired."""

    state: str


class FlowMachine:
    """One `transitions` machine per flow kind, shared by every voter."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.machine = Machine(
            model=None,
            states=[s.name for s in flow.steps],
            transitions=[_as_dict(t) for t in flow.transitions],
            initial=flow.initial,
            auto_transitions=False,
            ignore_invalid_triggers=True,
        )
        self._model = _Model()
        self.machine.add_model(self._model, initial=flow.initial)

    def fire(self, state: str, trigger: str, ctx: Context) -> str | None:
        """The state reached by firing `trigger` from `state`, or None if nothing fires."""
        if trigger not in self.machine.get_triggers(state):
            return None
        # One model per machine, put in the voter's state for the call: firing is synchronous,
        # so no other turn can see it in between (adding a model per call bound every trigger
        # to it anew).
        model = self._model
        model.state = state
        moved = model.trigger(trigger, ctx)  # type: ignore[attr-defined]
        return model.state if moved else None


# The voter's checklist, in order; the last ("J'ai voté") implies every earlier item.
CHECKLIST = ("identifier", "account", "vote_code", "voted")


def mark(item: str) -> Action:
    """An action ticking a checklist item ("voted" ticks them all)."""

    def action(ctx: Context) -> None:
        ctx.progress.update(CHECKLIST if item == CHECKLIST[-1] else (item,))

    action.__name__ = f"mark_{item}"
    return action


def unmark(item: str) -> Action:
    """An action unticking a checklist item."""

    def action(ctx: Context) -> None:
        ctx.progress.discard(item)

    action.__name__ = f"unmark_{item}"
    return action


def set_profile(field_name: str, value: Any) -> Action:
    """An action setting one profile field."""

    def action(ctx: Context) -> None:
        ctx.profile[field_name] = value

    action.__name__ = f"set_{field_name}_{value}"
    return action


def _as_dict(t: Transition) -> dict[str, Any]:
    return {
        "trigger": t.trigger,
        "source": t.source,
        "dest": t.dest,
        "conditions": list(t.conditions),
        "after": list(t.after),
    }
