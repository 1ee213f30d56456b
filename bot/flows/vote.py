"""Voting: dates and closing time, "Je vote", the vote code, one ballot at a time, receipts."""

from bot.flows.base import Flow, Step, Transition, mark
from bot.flows.conditions import phase_in

_OPEN = phase_in("before_portal", "activation", "voting")

FLOW = Flow(
    name="vote",
    final=("voted",),
    initial="how",
    steps=(
        Step("how", buttons=("next", "voted"), show={"next": _OPEN, "voted": phase_in("closed")}),
        Step(
            "ballots",
            buttons=("voted", "lost_code"),
            goto={"lost_code": "lost_code"},
            show={"voted": phase_in("voting", "closed")},
        ),
        Step("voted", buttons=(), enter=(mark("voted"),)),
    ),
    transitions=(
        Transition("next", "how", "ballots", conditions=(_OPEN,)),
        Transition("voted", "how", "voted", conditions=(phase_in("closed"),)),
        Transition("voted", "ballots", "voted"),
    ),
)
