"""TF-IDF features of one message with numpy only, exactly as scikit-learn computes them.

The running bot never imports scikit-learn: the vectorizers trained in `bot/intent/train.py`
are exported (options, vocabulary, IDF) and replayed here, operation for operation in the same
float precision and order (`TfidfVectorizer.transform`: lowercase, accents, n-grams, counts,
sublinear TF, IDF, L2 norm), so the scores are the ones scikit-learn would give.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")
# The options a vectorizer may be exported with, and the values this module reproduces.
SUPPORTED: dict[str, tuple[Any, ...]] = {
    "analyzer": ("char", "char_wb", "word"),
    "strip_accents": (None, "ascii", "unicode"),
    "lowercase": (True, False),
    "norm": ("l2",),
    "use_idf": (True,),
    "sublinear_tf": (True, False),
    "stop_words": (None,),
    "binary": (False,),
    "dtype": ("float32", "float64"),
}


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse settings this module does not reproduce (ValueError)."""
    for key, allowed in SUPPORTED.items():
        if key not in options or options[key] not in allowed:
            raise ValueError(f"unsupported vectorizer option {key}={options.get(key)!r}")
    low, high = options["ngram_range"]
    if not 1 <= low <= high or not isinstance(options["token_pattern"], str):
        raise ValueError("unsupported n-gram range or token pattern")


def strip_accents_unicode(text: str) -> str:
    """scikit-learn's `strip_accents_unicode`: NFKD, combining characters dropped."""
    normalized = unicodedata.normalize("NFKD", text)
    if normalized == text:
        return text
    return "".join(c for c in normalized if not unicodedata.combining(c))


def strip_accents_ascii(text: str) -> str:
    """scikit-learn's `strip_accents_ascii`: NFKD, then what is not ASCII dropped."""
    return unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams across the whole text (analyzer `char`)."""
    text = _WHITE_SPACES.sub(" ", text)
    grams = list(text) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(text) + 1)):
        grams += [text[i : i + n] for i in range(len(text) - n + 1)]
    return grams


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside words padded with a space (analyzer `char_wb`)."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[:n])
            while offset + n < size:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a short word is counted once
                break
    return grams


def word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Token n-grams: the tokens (when `low` is 1), then pairs, triples…"""
    if high == 1:
        return tokens
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


class Vectorizer:
    """One exported `TfidfVectorizer`: its analyzer, vocabulary and IDF."""

    def __init__(self, options: Mapping[str, Any], terms: Sequence[str], idf: np.ndarray) -> None:
        check_options(options)
        self.options = dict(options)
        self.vocabulary: dict[str, int] = {term: i for i, term in enumerate(terms)}
        self.dtype = np.dtype(options["dtype"])
        self.idf = np.asarray(idf, dtype=self.dtype)
        if len(self.vocabulary) != len(terms) or self.idf.shape != (len(terms),):
            raise ValueError("vocabulary and IDF do not match")
        self.analyse = self._analyzer()

    def _analyzer(self) -> Callable[[str], list[str]]:
        low, high = self.options["ngram_range"]
        accents = {None: None, "ascii": strip_accents_ascii, "unicode": strip_accents_unicode}
        strip = accents[self.options["strip_accents"]]
        lower = self.options["lowercase"]

        def preprocess(text: str) -> str:
            text = text.lower() if lower else text
            return strip(text) if strip else text

        analyzer = self.options["analyzer"]
        if analyzer == "word":
            tokens = re.compile(self.options["token_pattern"]).findall
            return lambda text: word_ngrams(tokens(preprocess(text)), low, high)
        grams = char_wb_ngrams if analyzer == "char_wb" else char_ngrams
        return lambda text: grams(preprocess(text), low, high)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def indices(self, grams: list[str]) -> list[int]:
        """Vocabulary indices of n-grams, unknown ones dropped."""
        vocabulary = self.vocabulary
        return [i for g in grams if (i := vocabulary.get(g)) is not None]

    def tfidf(self, found: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Sorted feature indices and their TF-IDF values, as `transform` computes them."""
        index, counts = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
        values = counts.astype(self.dtype)
        if self.options["sublinear_tf"]:
            np.log(values, values)
            values += 1.0
        values *= self.idf[index]
        # `normalize(norm="l2")`: squares in the data's precision, summed in order in double.
        squares = (values * values).astype(np.float64)
        total = float(np.cumsum(squares)[-1]) if len(squares) else 0.0
        if total != 0.0:
            values = (values.astype(np.float64) / np.sqrt(total)).astype(self.dtype)
        return index, values
