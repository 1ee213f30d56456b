"""Guide step 3: the secret question and its answer, which the vote-code recovery needs."""

from bot.flows.base import Flow, Step, Transition, mark

FLOW = Flow(
    name="secret",
    final=("done",),
    initial="choose",
    steps=(
        Step("choose", buttons=("chosen", "why")),
        Step("why", buttons=("chosen",)),
        Step("done", buttons=("next",), goto={"next": "notice"}, enter=(mark("account"),)),
    ),
    transitions=(
        Transition("chosen", "choose", "done"),
        Transition("why", "choose", "why"),
        Transition("chosen", "why", "done"),
    ),
)
