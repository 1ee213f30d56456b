"""Answers to free questions that are not procedures, and the router's own steps."""

from bot.flows.base import Condition, Context, Flow, Step
from bot.flows.menu import PROCEDURES, PROCEDURES_SHOW

# Where each intent leads (the router's targets), also offered as "did you mean…?" buttons.
INTENT_STEPS = {
    "get_webmel_id": "webmel.has_address",
    "forgot_webmel_password": "webmel.forgot_password",
    "portal_access": "portal.open_portal",
    "captcha_problem": "portal.captcha_help",
    "validation_email_missing": "portal.email_missing",
    "password_rules": "password.rules",
    "forgot_election_password": "lost_password.how",
    "secret_question": "secret.why",
    "vote_code_where": "notice.where",
    "lost_vote_code": "lost_code.how",
    "vote_dates": "info.dates",
    "how_to_vote": "vote.how",
    "check_roll": "roll.how",
    "colleague_missing_contact": "roll.colleague_missing",
    "who_can_vote": "info.who_can_vote",
    "which_ballots": "info.ballots",
    "numen_where": "webmel.numen_where",
    "greeting": "info.greeting",
    "thanks": "info.thanks",
    "out_of_scope": "info.out_of_scope",
    "human_help": "human.offer",
}


def _suggested(intent: str) -> Condition:
    def condition(ctx: Context) -> bool:
        return intent in ctx.data.get("suggestions", [])

    condition.__name__ = f"suggested_{intent}"
    return condition


FLOW = Flow(
    name="info",
    initial="dates",
    steps=(
        Step("dates", buttons=("vote",), goto={"vote": "vote"}),
        Step("who_can_vote", buttons=("roll",), goto={"roll": "roll"}),
        Step("ballots", buttons=("vote",), goto={"vote": "vote"}),
        Step("greeting", buttons=tuple(PROCEDURES), goto=PROCEDURES, show=PROCEDURES_SHOW),
        Step("thanks", buttons=()),
        Step("out_of_scope", buttons=()),
        Step(
            "fallback",
            buttons=tuple(PROCEDURES),
            goto=PROCEDURES,
            show=PROCEDURES_SHOW,
            transient=True,
        ),
        Step(
            "did_you_mean",
            buttons=tuple(INTENT_STEPS),
            goto=INTENT_STEPS,
            show={intent: _suggested(intent) for intent in INTENT_STEPS},
            transient=True,
        ),
    ),
)
