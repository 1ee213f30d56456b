"""Talk to a person: offer a handoff (after repeated misunderstandings), or hand over at once.

Reaching `requested` asks the front end for the "handoff" effect: support staff take over in
a forum topic of the staff group once the voter has written something.
"""

from bot.flows.base import Flow, Step, Transition
from bot.flows.conditions import feature

SUPPORT = feature("support")  # VOTEBOT_SUPPORT_CHAT is set

FLOW = Flow(
    name="human",
    initial="offer",
    steps=(
        Step("offer", buttons=("yes", "no"), goto={"no": "menu.main"}),
        Step("requested", effect="handoff"),
        # No staff group in this deployment: say so, and where else to turn.
        Step("unavailable"),
    ),
    transitions=(
        Transition("yes", "offer", "requested", conditions=(SUPPORT,)),
        Transition("yes", "offer", "unavailable"),
    ),
)
