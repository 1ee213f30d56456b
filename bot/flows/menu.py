"""The main menu: where every procedure starts."""

from bot.flows.base import Flow, Step

PROCEDURES = {"webmel": "webmel", "roll": "roll", "directory": "directory"}

FLOW = Flow(
    name="menu",
    initial="main",
    steps=(
        Step("welcome", buttons=tuple(PROCEDURES), goto=PROCEDURES),
        Step("main", buttons=tuple(PROCEDURES), goto=PROCEDURES),
        Step("soon"),
    ),
)
