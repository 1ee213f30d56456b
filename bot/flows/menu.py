"""The main menu: where every procedure starts."""

from bot.flows.base import Flow, Step
from bot.flows.conditions import feature

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
# Buttons shown only in some deployments (every step listing PROCEDURES uses this).
PROCEDURES_SHOW = {"human": feature("support")}
LOST = {
    "lost_password": "lost_password",
    "lost_code": "lost_code",
    "webmel_password": "webmel.forgot_password",
}

FLOW = Flow(
    name="menu",
    initial="main",
    steps=(
        Step("welcome", buttons=tuple(PROCEDURES), goto=PROCEDURES, show=PROCEDURES_SHOW),
        Step("main", buttons=tuple(PROCEDURES), goto=PROCEDURES, show=PROCEDURES_SHOW),
        Step("lost", buttons=tuple(LOST), goto=LOST),
    ),
)
