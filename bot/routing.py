"""The free-text router: an intent becomes a jump to a step, a question, or the fallback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.engine import Route
from bot.flows import Context, Flows
from bot.flows.info import INTENT_STEPS
from bot.intents import CONFIDENT, classify

MISUNDERSTOOD_BEFORE_OFFER = 3
# Steps of other features, used when those flows are installed.
HUMAN_REQUEST = "human.requested"
HUMAN_OFFER = "human.offer"
HUMAN_UNAVAILABLE = "human.unavailable"


class Router:
    """Classifies free text and picks where the voter goes."""

    def __init__(
        self,
        flows: Flows,
        roll_entry: Callable[[str, Context], Awaitable[str | None]] | None = None,
        directory_entry: Callable[[str, Context], str] | None = None,
    ) -> None:
        self.flows = flows
        self.roll_entry = roll_entry  # a question naming someone → the roll look-up's answer
        self.directory_entry = directory_entry  # "aesh 93" → the directory's answer
        self.targets = dict(INTENT_STEPS)

    async def _refine(self, intent: str, text: str, ctx: Context) -> str | None:
        """A more precise step for intents that carry data (a name, a category)."""
        if intent == "human_help" and self._exists(HUMAN_REQUEST):
            return HUMAN_REQUEST if "support" in ctx.features else HUMAN_UNAVAILABLE
        if intent == "check_roll" and self.roll_entry is not None:
            return await self.roll_entry(text, ctx)
        if intent == "colleague_missing_contact" and self.directory_entry is not None:
            return self.directory_entry(text, ctx)
        return None

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
            target = await self._refine(guess.intent, text, ctx) or target
            return Route(goto=target, trigger=f"text:{guess.intent}")
        misses = int(ctx.data.get("misunderstood", 0)) + 1
        ctx.data["misunderstood"] = misses
        support = "support" in ctx.features and self._exists(HUMAN_OFFER)
        if misses >= MISUNDERSTOOD_BEFORE_OFFER and support:
            ctx.data["misunderstood"] = 0
            return Route(goto=HUMAN_OFFER, trigger="text:misunderstood")
        if guess.intent == "out_of_scope" and guess.confidence > 0:
            return Route(goto="info.out_of_scope", trigger="text:out_of_scope")
        return Route(goto="info.fallback", trigger="text:unknown")
