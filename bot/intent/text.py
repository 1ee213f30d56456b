"""Text normalisation before classification: folding and SMS spelling expanded."""

from __future__ import annotations

from functools import cache
from importlib import resources

from bot.textfold import fold


@cache
def sms_table() -> dict[str, str]:
    """Folded SMS token → its expansion, from `bot/data/sms.tsv`."""
    table: dict[str, str] = {}
    raw = resources.files("bot").joinpath("data/sms.tsv").read_text(encoding="utf-8")
    for line in raw.splitlines():
        if line and not line.startswith("#"):
            token, _, expansion = line.partition("\t")
            table[token] = expansion
    return table


def normalise(text: str) -> str:
    """Lower case, no accents or ligatures, SMS spelling expanded, punctuation as spaces."""
    sms = sms_table()
    return " ".join(t for t in (sms.get(tok, tok) for tok in fold(text).split()) if t)
