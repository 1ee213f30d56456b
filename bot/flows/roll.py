"""The electoral roll: consult it on the portal; a missing colleague is reported."""

from bot.flows.base import Flow, Step, Transition

FLOW = Flow(
    name="roll",
    initial="how",
    steps=(
        Step("how", buttons=("missing",)),
        Step("colleague_missing", buttons=()),
    ),
    transitions=(Transition("missing", "how", "colleague_missing"),),
)
