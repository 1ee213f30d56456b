"""The free-text router: an intent becomes a jump to a step, a question, or the fallback."""

from __future__ import annotations

from bot.engine import Route
from bot.flows import Context, Flows
from bot.flows.info import INTENT_STEPS
from bot.intents import CONFIDENT, classify

MISUNDERSTOOD_BEFORE_OFFER = 3
# Steps of other features, used when those flows are installed.
HUMAN_REQUEST = "human.requested"
HUMAN_OFFER = "human.offer"


class Router:
    """Classifies free text and picks where the voter goes."""

    def __init__(self, flows: Flows, extra_targets: dict[str, str] | None = None) -> None:
        self.flows = flows
        self.targets = {**INTENT_STEPS, **(extra_targets or {})}
        if "human" in flows:
            self.targets["human_help"] = HUMAN_REQUEST

    def _exists(self, target: str) -> bool:
        flow, _, state = target.partition(".")
        return flow in self.flows and (not state or self.flows.has(flow, state))

    async def __call__(self, text: str, ctx: Context) -> Route:
        """Where `text` leads."""
        guess = classify(text)
        target = self.targets.get(guess.intent)
        understood = guess.confidence >= CONFIDENT and target and self._exists(target)
        if guess.runner_up and guess.confidence > 0 and self.targets.get(guess.runner_up):
            ctx.data["misunderstood"] = 0
            ctx.data["suggestions"] = [guess.intent, guess.runner_up]
            return Route(goto="info.did_you_mean", trigger=f"text:{guess.intent}?")
        if understood:
            ctx.data["misunderstood"] = 0
            return Route(goto=target, trigger=f"text:{guess.intent}")
        misses = int(ctx.data.get("misunderstood", 0)) + 1
        ctx.data["misunderstood"] = misses
        if misses >= MISUNDERSTOOD_BEFORE_OFFER and self._exists(HUMAN_OFFER):
            ctx.data["misunderstood"] = 0
            return Route(goto=HUMAN_OFFER, trigger="text:misunderstood")
        if guess.intent == "out_of_scope" and guess.confidence > 0:
            return Route(goto="info.out_of_scope", trigger="text:out_of_scope")
        return Route(goto="info.fallback", trigger="text:unknown")
