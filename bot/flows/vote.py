"""Voting: dates and closing time, "Je vote", the vote code, one ballot at a time, receipts."""

from bot.flows.base import Flow, Step, Transition, mark
from bot.flows.conditions import phase_in

FLOW = Flow(
    name="vote",
    final=("voted",),
    initial="how",
    steps=(
        Step("how", buttons=("next",)),
        Step(
            "ballots",
            buttons=("voted", "lost_code"),
            goto={"lost_code": "lost_code"},
            show={"voted": phase_in("voting", "closed")},
        ),
        Step("voted", buttons=(), enter=(mark("voted"),)),
    ),
    transitions=(
        Transition("next", "how", "ballots"),
        Transition("voted", "ballots", "voted"),
    ),
)
