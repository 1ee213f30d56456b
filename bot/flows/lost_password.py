"""A lost election password: the portal's reset, then the rules of the new one (no account
creation: a recovery never leads to the secret question or "espace activé")."""

from bot.flows.base import Flow, Step, Transition
from bot.flows.conditions import PASSWORD_RULES, all_password_rules_ticked
from bot.flows.password import reset, toggle

FLOW = Flow(
    name="lost_password",
    final=("done",),
    initial="how",
    steps=(
        Step("how", buttons=("rules",)),
        Step("rules", buttons=(*PASSWORD_RULES, "confirm")),
        Step("missing"),  # "Retour" goes back to the checklist
        Step("done", enter=(reset,)),
    ),
    transitions=(
        Transition("rules", "how", "rules"),
        *(Transition(r, "rules", "rules", after=(toggle(r),)) for r in PASSWORD_RULES),
        Transition("confirm", "rules", "done", conditions=(all_password_rules_ticked,)),
        Transition("confirm", "rules", "missing"),
    ),
)
