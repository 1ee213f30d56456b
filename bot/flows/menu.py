"""The main menu: where every procedure starts."""

from bot.flows.base import Flow, Step

PROCEDURES = {
    "webmel": "webmel",
    "portal": "portal",
    "notice": "notice",
    "vote": "vote",
    "lost": "menu.lost",
    "roll": "roll.how",
    "directory": "directory",
    "progress": "progress",
    "profile": "profile.category",
    "human": "human.requested",
}
LOST = {
    "lost_password": "lost_password",
    "lost_code": "lost_code",
    "webmel_password": "webmel.forgot_password",
}

FLOW = Flow(
    name="menu",
    initial="main",
    steps=(
        Step("welcome", buttons=tuple(PROCEDURES), goto=PROCEDURES),
        Step("main", buttons=tuple(PROCEDURES), goto=PROCEDURES),
        Step("lost", buttons=(*LOST, "menu_back"), goto={**LOST, "menu_back": "menu.main"}),
    ),
)
