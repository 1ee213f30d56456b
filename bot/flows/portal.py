"""Guide step 2: open the elections portal, identifier, captcha, validation e-mail."""

from bot.flows.base import Flow, Step, Transition
from bot.flows.conditions import phase_in

# The portal serves account creation until the vote closes, and not before it opens.
OPEN = phase_in("activation", "voting")

FLOW = Flow(
    name="portal",
    final=("validated",),
    initial="open_portal",
    steps=(
        Step("open_portal", buttons=("opened",), show={"opened": OPEN}),
        Step("identifier", buttons=("typed", "no_address"), goto={"no_address": "webmel"}),
        Step("captcha", buttons=("typed", "unreadable")),
        Step("captcha_help", buttons=("typed",)),
        Step("validation_email", buttons=("received", "not_received")),
        Step(
            "email_missing",
            buttons=("received", "webmel_help"),
            goto={"webmel_help": "webmel.forgot_password"},
        ),
        Step("validated", buttons=("next",), goto={"next": "password"}),
    ),
    transitions=(
        Transition("opened", "open_portal", "identifier", conditions=(OPEN,)),
        Transition("typed", "identifier", "captcha"),
        Transition("typed", "captcha", "validation_email"),
        Transition("unreadable", "captcha", "captcha_help"),
        Transition("typed", "captcha_help", "validation_email"),
        Transition("received", "validation_email", "validated"),
        Transition("not_received", "validation_email", "email_missing"),
        Transition("received", "email_missing", "validated"),
    ),
)
