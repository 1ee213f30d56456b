"""Training the intent model with scikit-learn, outside the bot: `python -m bot.intent.train FILE`.

Run as a module, it trains on the shipped corpus and writes the exported model (plain arrays,
no pickle) to FILE: the running bot starts it as a child process and reads that file, so
scikit-learn and SciPy never enter the bot's memory. The offline tools (`votebot intent
--eval`, `--cross-validate`) and the tests import it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from bot.intent.corpus import Example, load_corpus
from bot.intent.features import SUPPORTED
from bot.intent.modelfile import Exported, model_key, save
from bot.intent.text import normalise

SEED = 10


@dataclass(frozen=True)
class Fitted:
    """The scikit-learn objects: character and word vectorizers, the logistic regression."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    classifier: LogisticRegression

    def features(self, texts: Sequence[str]) -> Any:
        """The classifier's input for normalised texts (both vectorizers side by side)."""
        return hstack([self.chars.transform(texts), self.words.transform(texts)]).tocsr()


def fit(examples: Sequence[Example]) -> Fitted:
    """Character 2–5-grams and word 1–2-grams, TF-IDF, then a logistic regression (seeded)."""
    texts = [normalise(text) for _, text in examples]
    labels = [intent for intent, _ in examples]
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
    )
    words = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
    )
    features = hstack([chars.fit_transform(texts), words.fit_transform(texts)])
    classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=SEED)
    with threadpool_limits(limits=1):  # faster than several threads on a busy machine
        classifier.fit(features.tocsr(), labels)
    return Fitted(chars, words, classifier)


def _options(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    """The settings `bot/intent/features.py` replays; anything it cannot replay is refused."""
    params = vectorizer.get_params()
    for name in ("preprocessor", "tokenizer", "vocabulary"):
        if params[name] is not None:
            raise ValueError(f"a custom {name} cannot be exported")
    options = {key: params[key] for key in SUPPORTED if key != "dtype"}
    options["dtype"] = np.dtype(params["dtype"]).name
    options["ngram_range"] = list(params["ngram_range"])
    options["token_pattern"] = params["token_pattern"]
    return options


def export(fitted: Fitted) -> Exported:
    """The trained model as plain arrays and settings, nothing of scikit-learn."""
    vectorizers = (fitted.chars, fitted.words)
    classes = tuple(str(c) for c in fitted.classifier.classes_)
    if len(classes) < 3:
        raise ValueError("the exported scores are multinomial: at least three intents")
    return Exported(
        options=tuple(_options(v) for v in vectorizers),
        terms=tuple(tuple(str(t) for t in v.get_feature_names_out()) for v in vectorizers),
        idf=tuple(np.asarray(v.idf_) for v in vectorizers),
        coef=np.asarray(fitted.classifier.coef_),
        intercept=np.asarray(fitted.classifier.intercept_),
        classes=classes,
    )


def main(argv: Sequence[str]) -> int:
    """Train on the shipped corpus and write the exported model to the file named."""
    if len(argv) != 1:
        print("usage: python -m bot.intent.train FILE", file=sys.stderr)
        return 2
    save(Path(argv[0]), export(fit(load_corpus())), model_key())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
