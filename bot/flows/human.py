"""Talk to a person: offer a handoff (after repeated misunderstandings), or hand over at once.

Reaching `requested` asks the front end for the "handoff" effect: support staff take over in
a forum topic of the staff group once the voter has written something.
"""

from bot.flows.base import Flow, Step, Transition

FLOW = Flow(
    name="human",
    initial="offer",
    steps=(
        Step("offer", buttons=("yes", "no"), goto={"no": "menu.main"}),
        Step("requested", effect="handoff"),
    ),
    transitions=(Transition("yes", "offer", "requested"),),
)
