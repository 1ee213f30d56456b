"""The learned intent classifier: character and word n-gram TF-IDF and a logistic regression.

Trained with scikit-learn from the corpus in a child process, or read from the cache
(`bot/intent/modelfile.py`), then kept for the life of the process. Scoring uses numpy only
(`bot/intent/features.py`), with the same numbers as scikit-learn's `predict_proba`.
Confidence is the model's probability for its first intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from bot.intent.corpus import Example
from bot.intent.features import Vectorizer
from bot.intent.modelfile import Exported, shipped
from bot.intent.text import normalise

TOP = 3  # intents kept in a guess, best first


@dataclass(frozen=True)
class Guess:
    """The classifier's answer: intents with their probability, best first."""

    ranked: tuple[tuple[str, float], ...]
    known: float  # share of the text's character n-grams seen in the corpus (0 for gibberish)

    @property
    def intent(self) -> str:
        """The likeliest intent."""
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        """The likeliest intent's probability."""
        return self.ranked[0][1]


class IntentModel:
    """A trained classifier, replayed with numpy (no scikit-learn in this process)."""

    def __init__(self, exported: Exported) -> None:
        self.intents: tuple[str, ...] = exported.classes
        self.chars, self.words = (
            Vectorizer(*parts)
            for parts in zip(exported.options, exported.terms, exported.idf, strict=True)
        )
        self._offset = len(self.chars)  # the word columns follow the character ones
        self._weights = np.ascontiguousarray(exported.coef.T)  # one row per feature
        self._bias = exported.intercept

    @classmethod
    def fit(cls, examples: Sequence[Example]) -> IntentModel:
        """Train on labelled examples in this process (offline tools: imports scikit-learn)."""
        from bot.intent.train import export, fit

        return cls(export(fit(examples)))

    def scores(self, text: str) -> tuple[np.ndarray, float]:
        """Each intent's decision score (`decision_function`) and the known-n-gram share."""
        norm = normalise(text)
        grams = self.chars.analyse(norm)
        found = self.chars.indices(grams)
        chars, char_values = self.chars.tfidf(found)
        words, word_values = self.words.tfidf(self.words.indices(self.words.analyse(norm)))
        index = np.concatenate((chars, words + self._offset))
        values = np.concatenate((char_values, word_values))
        # A sparse row times the weights as SciPy does it: the products added one feature
        # after the other in column order (a sum over the outer axis is sequential), then
        # the bias.
        total = (values[:, None] * self._weights[index]).sum(axis=0)
        return total + self._bias, len(found) / len(grams) if grams else 0.0

    def probabilities(self, text: str) -> tuple[np.ndarray, float]:
        """Each intent's probability (in `self.intents` order) and the known-n-gram share."""
        scores, known = self.scores(text)
        scores -= scores.max()
        np.exp(scores, out=scores)
        scores /= scores.sum()
        return scores, known

    def classify(self, text: str) -> Guess:
        """The likeliest intents for one message."""
        proba, known = self.probabilities(text)
        order = np.argsort(-proba)[:TOP]
        ranked = tuple((self.intents[i], round(float(proba[i]), 3)) for i in order)
        return Guess(ranked, round(known, 3))


@cache
def model() -> IntentModel:
    """The model of the shipped corpus (cached on disk or trained in a child), once per process."""
    return IntentModel(shipped())


def classify(text: str) -> Guess:
    """The likeliest intents of a voter's message."""
    return model().classify(text)
