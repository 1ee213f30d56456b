"""Is this colleague on the electoral roll? A surname and a first name → yes or no.

`how` (the guide: consult the roll on the portal) and `colleague_missing` (who reports an
omission) are the targets of the intent router's `check_roll` / `colleague_missing_contact`
when it has no name or category to go further.

The text handler `roll_lookup` (bot/roll/lookup.py) reads the name typed at a text step, checks the
rate limits, looks the name up (exact match only, no suggestion) and fires the trigger named
after the step to show. The name typed is never kept in the flow data.
"""

from bot.flows.base import Flow, Step, Transition

TEXT = "roll_lookup"
RESULTS = ("found", "not_found", "need_first_name", "rate_limited", "unavailable")
FOUND = "roll_found"  # {"ballot": the guide's ballot if the name is on its roll, else None}
LIMIT = "roll_limit"  # {"kind": "user" | "global", "limit": n, "wait": minutes}


STEPS = (
    Step("ask_name", text=TEXT),
    # The guide's explanation (consult the roll on the portal), kept for the intent router.
    Step("how", buttons=("check", "missing"), text=TEXT),
    Step("colleague_missing", buttons=("report",), goto={"report": "directory.category"}),
    Step("need_first_name", text=TEXT),
    Step("found", buttons=("another",), text=TEXT),
    Step(
        "not_found",
        buttons=("report", "another"),
        goto={"report": "directory.category"},
        text=TEXT,
    ),
    Step("rate_limited", text=TEXT),  # later attempts are checked (and counted) again
    Step("unavailable"),
)
_TEXT_STEPS = tuple(s.name for s in STEPS if s.text)

FLOW = Flow(
    name="roll",
    initial="ask_name",
    steps=STEPS,
    transitions=(
        *(Transition(result, source, result) for source in _TEXT_STEPS for result in RESULTS),
        *(Transition("another", source, "ask_name") for source in ("found", "not_found")),
        Transition("check", "how", "ask_name"),
        Transition("missing", "how", "colleague_missing"),
    ),
)
