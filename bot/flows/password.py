"""Guide step 2 (end): the election password rules as a checklist the voter ticks."""

from bot.flows.base import Action, Context, Flow, Step, Transition
from bot.flows.conditions import PASSWORD_RULES, all_password_rules_ticked


def toggle(rule: str) -> Action:
    """An action ticking or unticking one password rule."""

    def action(ctx: Context) -> None:
        ticked = ctx.data.setdefault("password_rules", [])
        if rule in ticked:
            ticked.remove(rule)
        else:
            ticked.append(rule)

    action.__name__ = f"toggle_{rule}"
    return action


def reset(ctx: Context) -> None:
    """Forget the ticked rules."""
    ctx.data.pop("password_rules", None)


FLOW = Flow(
    name="password",
    final=("chosen",),
    initial="rules",
    steps=(
        Step("rules", buttons=(*PASSWORD_RULES, "confirm")),
        Step("missing"),  # "Retour" goes back to the checklist
        Step("chosen", buttons=("next",), goto={"next": "secret"}, enter=(reset,)),
    ),
    transitions=(
        *(Transition(r, "rules", "rules", after=(toggle(r),)) for r in PASSWORD_RULES),
        Transition("confirm", "rules", "chosen", conditions=(all_password_rules_ticked,)),
        Transition("confirm", "rules", "missing"),
    ),
)
