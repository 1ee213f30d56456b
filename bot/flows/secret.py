"""Guide step 3: the secret question and its answer, which the vote-code recovery needs."""

from bot.flows.base import Flow, Step, Transition, mark
from bot.flows.conditions import feature

FLOW = Flow(
    name="secret",
    final=("done",),
    initial="choose",
    steps=(
        Step("choose", buttons=("chosen", "why")),
        Step("why", buttons=("chosen",)),
        Step("done", buttons=("next",), goto={"next": "notice"}, enter=(mark("account"),)),
        # The answer is forgotten: what it is needed for, and who can help.
        Step(
            "forgotten",
            buttons=("notice", "human"),
            goto={"notice": "notice.where", "human": "human.requested"},
            show={"human": feature("support")},
        ),
    ),
    transitions=(
        Transition("chosen", "choose", "done"),
        Transition("why", "choose", "why"),
        Transition("chosen", "why", "done"),
    ),
)
