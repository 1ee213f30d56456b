"""The voter's checklist (/progression): ticked by flows and by the voter."""

from bot.flows.base import Action, Context, Flow, Step, Transition

ITEMS = ("identifier", "account", "vote_code", "voted")


def _toggle(item: str) -> Action:
    def action(ctx: Context) -> None:
        if item in ctx.progress:
            ctx.progress.discard(item)
        else:
            ctx.progress.add(item)

    action.__name__ = f"toggle_{item}"
    return action


def _tick(ctx: Context) -> None:
    ctx.progress.add("voted")


FLOW = Flow(
    name="progress",
    initial="show",
    steps=(
        Step("show", buttons=ITEMS, goto={}),
        Step("voted", buttons=(), enter=(_tick,)),
    ),
    transitions=tuple(Transition(i, "show", "show", after=(_toggle(i),)) for i in ITEMS),
)
