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
# Where the accented letters of names and French text live (Latin-1, Latin Extended-A/B,
# combining marks, Vietnamese, full-width forms): folded once here, not for every string.
_COMMON = (
    *range(0x80, 0x250),
    *range(0x300, 0x370),
    *range(0x1E00, 0x1F00),
    *range(0xFF01, 0xFF5F),
)


def _unaccented(text: str) -> str:
    """NFKD without its combining marks: `É` → `E`, `ﬁ` → `fi`, `Ａ` → `A`."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Every common character that unaccents into ASCII, mapped once; the ligatures above first.
_TO_ASCII = {
    **{code: plain for code in _COMMON if (plain := _unaccented(chr(code))).isascii()},
    **_LETTERS,
}


def fold(text: str) -> str:
    """`L'École d'Œuvre — 93 !` → `l ecole d oeuvre 93` (ASCII letters and digits only)."""
    if not text.isascii():
        text = text.translate(_TO_ASCII)  # the usual accents, at C speed
        if not text.isascii():  # other scripts and symbols: the general rule
            text = _unaccented(text)
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def padded(text: str) -> str:
    """Folded text with a space at each end, so whole words match `\\b…\\b` patterns."""
    return f" {fold(text)} "
