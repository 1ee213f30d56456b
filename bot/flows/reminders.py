"""Reminders consent: asked once, changed at any time with /rappels."""

from bot.flows.base import Context, Flow, Step, Transition, set_profile
from bot.flows.menu import PROCEDURES, PROCEDURES_SHOW


def _opted_in(ctx: Context) -> bool:
    return bool(ctx.profile.get("reminders"))


FLOW = Flow(
    name="reminders",
    initial="ask",
    steps=(
        # Linked from the welcome/profile flow: asks once; the answer comes with the menu.
        Step("ask", buttons=("yes", "no")),
        # /rappels: shows the current choice and lets the voter change it.
        Step("settings", buttons=("yes", "no")),
        # "STOP" typed by a voter: one tap turns reminders off ("keep" changes nothing).
        Step(
            "stop",
            buttons=("confirm_stop", "keep"),
            goto={"keep": "menu.main"},
            show={"confirm_stop": _opted_in, "keep": _opted_in},
        ),
        Step(
            "on",
            buttons=tuple(PROCEDURES),
            goto=PROCEDURES,
            show=PROCEDURES_SHOW,
            enter=(set_profile("reminders", True),),
        ),
        Step(
            "off",
            buttons=tuple(PROCEDURES),
            goto=PROCEDURES,
            show=PROCEDURES_SHOW,
            enter=(set_profile("reminders", False),),
        ),
    ),
    transitions=(
        Transition("yes", "ask", "on"),
        Transition("no", "ask", "off"),
        Transition("yes", "settings", "on"),
        Transition("no", "settings", "off"),
        Transition("confirm_stop", "stop", "off"),
    ),
)
