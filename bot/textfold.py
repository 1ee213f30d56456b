"""Folding text for matching: lower case, no accents or ligatures, punctuation as spaces."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})  # data: ligatures
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """`L'École d'Œuvre — 93 !` → `l ecole d oeuvre 93`."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", text).strip()
