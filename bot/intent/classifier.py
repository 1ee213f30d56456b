"""The learned intent classifier: character and word n-gram TF-IDF and a logistic regression.

Trained from the corpus when first used (about a second, fixed seed, no network), then kept
for the life of the process. Confidence is the model's probability for its first intent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.sparse import hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from bot.intent.corpus import Example, load_corpus
from bot.intent.text import normalise

SEED = 10
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
    """A classifier trained on labelled examples."""

    def __init__(self, examples: Sequence[Example]) -> None:
        texts = [normalise(text) for _, text in examples]
        labels = [intent for intent, _ in examples]
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.words = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
        )
        features = hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)])
        self.classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=SEED)
        with threadpool_limits(limits=1):  # faster than several threads on a busy machine
            self.classifier.fit(features.tocsr(), labels)
        self.intents: tuple[str, ...] = tuple(str(c) for c in self.classifier.classes_)
        # The same computation as sklearn's transform + predict_proba, without its per-call
        # checks (10x faster on one message): weights by feature row, one block per vectorizer.
        weights = self.classifier.coef_.T.astype(np.float32)
        offset = len(self.chars.vocabulary_)
        self._blocks = (
            _Block(self.chars, weights[:offset]),
            _Block(self.words, weights[offset:]),
        )
        self._bias = self.classifier.intercept_.astype(np.float32)

    def probabilities(self, text: str) -> tuple[np.ndarray, float]:
        """Each intent's probability (in `self.intents` order) and the known-n-gram share."""
        norm = normalise(text)
        chars, words = self._blocks
        grams = chars.analyse(norm)
        found = [i for g in grams if (i := chars.vocabulary.get(g)) is not None]
        scores = self._bias + chars.scores(found) + words.scores(words.indices(norm))
        scores = np.exp(scores - scores.max())
        return scores / scores.sum(), len(found) / len(grams) if grams else 0.0

    def classify(self, text: str) -> Guess:
        """The likeliest intents for one message."""
        proba, known = self.probabilities(text)
        order = np.argsort(-proba)[:TOP]
        ranked = tuple((self.intents[i], round(float(proba[i]), 3)) for i in order)
        return Guess(ranked, round(known, 3))


class _Block:
    """One vectorizer's share of the linear scores (sublinear TF, IDF, L2 norm)."""

    def __init__(self, vectorizer: TfidfVectorizer, weights: np.ndarray) -> None:
        self.analyse = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.astype(np.float32)
        self.weights = np.ascontiguousarray(weights)

    def indices(self, norm: str) -> list[int]:
        """Vocabulary indices of the text's n-grams (unknown ones dropped)."""
        vocabulary = self.vocabulary
        return [i for g in self.analyse(norm) if (i := vocabulary.get(g)) is not None]

    def scores(self, found: list[int]) -> np.ndarray:
        """The block's contribution to each intent's score, from the n-grams found."""
        if not found:
            return np.zeros(self.weights.shape[1], dtype=np.float32)
        counts = Counter(found)
        index = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        values = tf * self.idf[index]
        values /= np.linalg.norm(values)
        return values @ self.weights[index]


@cache
def model() -> IntentModel:
    """The model trained on the shipped corpus, built once per process."""
    return IntentModel(load_corpus())


def classify(text: str) -> Guess:
    """The likeliest intents of a voter's message."""
    return model().classify(text)
