"""Guide step 1: find the academic webmail identifier (NUMEN + date of birth)."""

from bot.flows.base import Flow, Step, Transition

FLOW = Flow(
    name="webmel",
    initial="has_address",
    steps=(
        Step("has_address", buttons=("yes", "no")),
        Step("open_webmel", buttons=("found_link",)),
        Step("enter_numen", buttons=("got_identifier", "no_numen")),
        Step("numen_where", buttons=("have_numen",)),
        Step("note_identifier", buttons=("noted",)),
        Step("done", buttons=("next",), goto={"next": "menu.soon"}),
    ),
    transitions=(
        Transition("yes", "has_address", "done"),
        Transition("no", "has_address", "open_webmel"),
        Transition("found_link", "open_webmel", "enter_numen"),
        Transition("got_identifier", "enter_numen", "note_identifier"),
        Transition("no_numen", "enter_numen", "numen_where"),
        Transition("have_numen", "numen_where", "enter_numen"),
        Transition("noted", "note_identifier", "done"),
    ),
)
