"""A lost vote code: a new one from the portal, only once voting is open."""

from bot.flows.base import Flow, Step, Transition, set_profile
from bot.flows.conditions import phase_in

_BEFORE = phase_in("before_portal", "activation")

FLOW = Flow(
    name="lost_code",
    initial="how",
    steps=(
        Step(
            "how",
            buttons=("remind", "vote"),
            goto={"vote": "vote"},
            show={"remind": _BEFORE, "vote": phase_in("voting")},
        ),
        Step("reminded", buttons=()),
    ),
    transitions=(
        Transition(
            "remind",
            "how",
            "reminded",
            conditions=(_BEFORE,),
            after=(set_profile("reminders", True),),
        ),
    ),
)
