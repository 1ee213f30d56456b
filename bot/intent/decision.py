"""From a guess to a decision: answer (go there), clarify (ask which topic) or fallback.

The thresholds were chosen from cross-validation on the corpus (`votebot intent --eval`
prints the figures) so that a confident wrong answer is rare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.intent.classifier import Guess

ANSWER = 0.55  # the first intent's probability from which the bot answers directly
CLARIFY = 0.25  # from here up to ANSWER: "Vous parlez de… ?" with the likeliest topics
OPTION = 0.08  # a further topic is offered when at least this likely
KNOWN = 0.5  # below this share of known character n-grams the text is not understood
OPTIONS = 3

Kind = Literal["answer", "clarify", "fallback"]


@dataclass(frozen=True)
class Decision:
    """What to do with a message, and the topics to offer when clarifying."""

    kind: Kind
    guess: Guess
    options: tuple[str, ...] = ()

    @property
    def intent(self) -> str:
        """The likeliest intent."""
        return self.guess.intent


def decide(guess: Guess) -> Decision:
    """Answer, clarify or fall back, from the guess's probabilities."""
    if guess.known < KNOWN or guess.confidence < CLARIFY:
        return Decision("fallback", guess)
    if guess.confidence >= ANSWER:
        return Decision("answer", guess)
    first, *rest = (intent for intent, p in guess.ranked)
    more = [i for i, p in guess.ranked[1:OPTIONS] if p >= OPTION] or rest[:1]
    return Decision("clarify", guess, (first, *more))
