"""The one folding function: what names, CSV headers and free text are matched on."""

from __future__ import annotations

import re
import unicodedata

import pytest

from bot.textfold import fold, padded

LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i"}
)  # fmt: skip


def by_the_rule(text: str) -> str:
    """The definition, applied to the whole text: ligatures, NFKD, no combining marks,
    case folded, anything but ASCII letters and digits a separator."""
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("L'École d'Œuvre — 93 !", "l ecole d oeuvre 93"),
        ("LEFÈVRE Anne-Sophie", "lefevre anne sophie"),
        ("Lætitia N’DIAYE", "laetitia n diaye"),
        ("Ｍａｒｔｉｎ", "martin"),  # full-width letters, as some keyboards type them
        ("Straße", "strasse"),
        ("Nguyễn Thị Minh Khai", "nguyen thi minh khai"),
        ("e\u0301cole", "ecole"),  # an accent typed as its own combining mark
        ("Ольга MARTIN", "martin"),  # another script is no letters here: a separator
        ("", ""),
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert padded(text) == f" {folded} "


def test_fold_follows_the_rule_for_every_character() -> None:
    """The characters folded from a table give what the rule gives, alone and among others
    (every character up to U+2FFF, and the full-width forms)."""
    for code in (*range(0x20, 0x3000), *range(0xFF00, 0xFFF0)):
        c = chr(code)
        for text in (c, f"Ab{c}é9", f"{c}\u0301x", f"ŒUVRE {c} Ольга"):
            assert fold(text) == by_the_rule(text), (hex(code), text)
