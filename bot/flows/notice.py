"""Guide step 4: the notice de vote and its vote code, from the school secretariat."""

from bot.flows.base import Flow, Step, Transition, mark
from bot.flows.conditions import phase_in

_WHERE = ("got_it", "replacement", "aesh", "not_received")

FLOW = Flow(
    name="notice",
    final=("got_it",),
    initial="where",
    steps=(
        Step(
            "where",
            buttons=_WHERE,
            show=dict.fromkeys(_WHERE, phase_in("before_portal", "activation", "voting")),
        ),
        Step("replacement", buttons=("got_it", "not_received")),
        Step("aesh", buttons=("got_it", "not_received")),
        Step(
            "missing",
            buttons=("lost_code", "got_it"),
            goto={"lost_code": "lost_code"},
            show={"lost_code": phase_in("before_portal", "activation", "voting")},
        ),
        Step("got_it", buttons=("next",), goto={"next": "vote"}, enter=(mark("vote_code"),)),
    ),
    transitions=(
        Transition("got_it", "where", "got_it"),
        Transition("replacement", "where", "replacement"),
        Transition("aesh", "where", "aesh"),
        Transition("not_received", "where", "missing"),
        Transition("got_it", "replacement", "got_it"),
        Transition("not_received", "replacement", "missing"),
        Transition("got_it", "aesh", "got_it"),
        Transition("not_received", "aesh", "missing"),
        Transition("got_it", "missing", "got_it"),
    ),
)
