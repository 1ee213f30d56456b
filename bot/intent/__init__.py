"""Free text → intent: a classifier learned from a labelled corpus, and a decision.

`classify(text)` ranks the intents with their probabilities; `decide(guess)` says whether to
answer, ask "Vous parlez de… ?" or fall back. The corpus is `bot/data/intent_corpus.tsv`.
"""

from bot.intent.classifier import Guess, IntentModel, classify, model
from bot.intent.decision import Decision, decide
from bot.intent.text import normalise

__all__ = ["Decision", "Guess", "IntentModel", "classify", "decide", "model", "normalise"]
