"""Guide step 1: find the academic webmail identifier (NUMEN + date of birth)."""

from bot.flows.base import Flow, Step, Transition, mark

FLOW = Flow(
    name="webmel",
    final=("done",),
    initial="has_address",
    steps=(
        Step("has_address", buttons=("yes", "no", "forgot")),
        Step("open_webmel", buttons=("found_link",)),
        Step("enter_numen", buttons=("got_identifier", "no_numen")),
        Step("numen_where", buttons=("have_numen",)),
        Step("note_identifier", buttons=("noted", "digit")),
        Step("homonym", buttons=("noted",)),
        Step("forgot_password", buttons=("reset_done", "no_numen")),
        Step(
            "done",
            buttons=("next", "forgot"),
            goto={"next": "portal"},
            enter=(mark("identifier"),),
        ),
    ),
    transitions=(
        Transition("yes", "has_address", "done"),
        Transition("no", "has_address", "open_webmel"),
        Transition("forgot", "has_address", "forgot_password"),
        Transition("found_link", "open_webmel", "enter_numen"),
        Transition("got_identifier", "enter_numen", "note_identifier"),
        Transition("no_numen", "enter_numen", "numen_where"),
        Transition("have_numen", "numen_where", "enter_numen"),
        Transition("noted", "note_identifier", "done"),
        Transition("digit", "note_identifier", "homonym"),
        Transition("noted", "homonym", "done"),
        Transition("reset_done", "forgot_password", "done"),
        Transition("no_numen", "forgot_password", "numen_where"),
        Transition("forgot", "done", "forgot_password"),
    ),
)
