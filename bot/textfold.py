"""Folding text for matching: lower case, no accents or ligatures, punctuation as spaces.

The one folding function of the bot: free text (intents, routing, categories and
départements), CSV headers and cells, and the names of the electoral roll all go through it.
"""

from __future__ import annotations

import re
import unicodedata

_LETTERS = str.maketrans(  # data: ligatures and letters NFKD does not decompose
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i"}
)  # fmt: skip
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """`L'École d'Œuvre — 93 !` → `l ecole d oeuvre 93` (ASCII letters and digits only)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def padded(text: str) -> str:
    """Folded text with a space at each end, so whole words match `\\b…\\b` patterns."""
    return f" {fold(text)} "
