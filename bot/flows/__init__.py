"""Every flow of the guide, and the one shared machine per flow kind."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cached_property

from bot.flows import (
    directory,
    human,
    info,
    lost_code,
    lost_password,
    menu,
    notice,
    password,
    portal,
    profile,
    progress,
    reminders,
    roll,
    secret,
    vote,
    webmel,
)
from bot.flows.base import (
    Context,
    Flow,
    FlowMachine,
    Reply,
    Step,
    Transition,
    mark,
    set_profile,
    unmark,
)

__all__ = [
    "Context",
    "Flow",
    "FlowMachine",
    "Flows",
    "Reply",
    "Step",
    "Transition",
    "default_flows",
    "mark",
    "set_profile",
    "start_step",
    "unmark",
]


class Flows:
    """The registry of flows with their shared machines."""

    def __init__(self, flows: tuple[Flow, ...]) -> None:
        self.by_name = {f.name: f for f in flows}
        self.machines = {f.name: FlowMachine(f) for f in flows}

    def __getitem__(self, name: str) -> Flow:
        return self.by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __iter__(self) -> Iterator[Flow]:
        return iter(self.by_name.values())

    def has(self, flow: str, state: str) -> bool:
        """Whether `flow.state` exists."""
        return flow in self.by_name and self.by_name[flow].has_step(state)

    @cached_property
    def version(self) -> str:
        """A short fingerprint of every flow: buttons of another deployment are recognised."""
        digest = hashlib.sha256()
        for flow in self.by_name.values():
            for step in flow.steps:
                goto = sorted(step.goto.items())
                digest.update(f"{flow.name}.{step.name}:{step.buttons}:{goto}".encode())
            for t in flow.transitions:
                digest.update(f"{t.trigger}:{t.source}>{t.dest}".encode())
        return digest.hexdigest()[:4]


def start_step(ctx: Context) -> str:
    """Where /start leads: the welcome with the profile question once, then the menu."""
    return "menu.welcome" if ctx.data.get("welcomed") else "profile.welcome"


def default_flows() -> Flows:
    """The flows the bot ships with."""
    return Flows(
        (
            menu.FLOW,
            profile.FLOW,
            webmel.FLOW,
            portal.FLOW,
            password.FLOW,
            secret.FLOW,
            notice.FLOW,
            roll.FLOW,
            vote.FLOW,
            lost_password.FLOW,
            lost_code.FLOW,
            progress.FLOW,
            info.FLOW,
            human.FLOW,
            directory.FLOW,
            reminders.FLOW,
        )
    )
