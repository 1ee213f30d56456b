"""The labelled corpus (`bot/data/intent_corpus.tsv`) and labelled files in the same format."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

Example = tuple[str, str]  # (intent, text)


def parse(raw: str) -> list[Example]:
    """`intent<TAB>text` lines; blank lines and `#` comments skipped."""
    rows = []
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"not an intent<TAB>text line: {line!r}")
        rows.append((intent.strip(), text.strip()))
    return rows


def load_corpus() -> list[Example]:
    """The training corpus shipped with the package."""
    raw = resources.files("bot").joinpath("data/intent_corpus.tsv").read_text(encoding="utf-8")
    return parse(raw)


def load_file(path: Path) -> list[Example]:
    """A labelled file (held-out set, exported feedback)."""
    return parse(path.read_text(encoding="utf-8"))
