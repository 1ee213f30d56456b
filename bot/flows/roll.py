"""Is this colleague on the electoral roll? A surname and a first name → the ballot(s).

`how` (the guide: consult the roll on the portal) and `colleague_missing` (who reports an
omission) are the targets of the intent router's `check_roll` / `colleague_missing_contact`
when it has no name or category to go further.

The text handler `roll_lookup` (bot/roll.py) reads the name typed at a text step, checks the
rate limit, looks the person up and fires the trigger named after the step to show.
"""

from bot.flows.base import Context, Flow, Step, Transition

TEXT = "roll_lookup"
RESULTS = ("found", "not_found", "near_miss", "need_first_name", "rate_limited", "unavailable")
FOUND = "roll_found"  # {"name": ..., "ballots": [...], "homonyms": bool}
SUGGESTION = "roll_suggestion"  # the same shape, for the one-typo suggestion


def has_suggestion(ctx: Context) -> bool:
    """A near-miss suggestion is waiting for the voter's confirmation."""
    return bool(ctx.data.get(SUGGESTION))


def accept_suggestion(ctx: Context) -> None:
    """The voter confirms the suggested spelling: it becomes the answer."""
    ctx.data[FOUND] = ctx.data.pop(SUGGESTION)


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
    Step(
        "near_miss",
        buttons=("accept", "report", "another"),
        goto={"report": "directory.category"},
        text=TEXT,
    ),
    Step("rate_limited"),
    Step("unavailable"),
)
_TEXT_STEPS = tuple(s.name for s in STEPS if s.text)

FLOW = Flow(
    name="roll",
    initial="ask_name",
    steps=STEPS,
    transitions=(
        *(Transition(result, source, result) for source in _TEXT_STEPS for result in RESULTS),
        *(
            Transition("another", source, "ask_name")
            for source in ("found", "not_found", "near_miss")
        ),
        Transition("accept", "near_miss", "found", (has_suggestion,), after=(accept_suggestion,)),
        Transition("check", "how", "ask_name"),
        Transition("missing", "how", "colleague_missing"),
    ),
)
