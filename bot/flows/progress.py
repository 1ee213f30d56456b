"""The voter's checklist (/progression): ticked by flows and by the voter."""

from bot.flows.base import CHECKLIST as ITEMS
from bot.flows.base import Action, Context, Flow, Step, Transition, mark


def _toggle(item: str) -> Action:
    """Tick or untick one box; "J'ai voté" implies every earlier box (as audiences count)."""

    def action(ctx: Context) -> None:
        voted = "voted" in ctx.progress
        if voted:  # the boxes shown ticked are kept ticked, whatever was stored before
            ctx.progress.update(ITEMS)
        if item not in ctx.progress:
            ctx.progress.update(ITEMS if item == "voted" else (item,))
            return
        ctx.progress.discard(item)
        ctx.progress.discard("voted")  # a step not done means not voted yet

    action.__name__ = f"toggle_{item}"
    return action


FLOW = Flow(
    name="progress",
    initial="show",
    steps=(
        Step("show", buttons=ITEMS, goto={}),
        Step("voted", buttons=(), enter=(mark("voted"),)),
    ),
    transitions=tuple(Transition(i, "show", "show", after=(_toggle(i),)) for i in ITEMS),
)
