"""Is a message written in English? Counted on function words, the surest signal in a line."""

from __future__ import annotations

from bot.textfold import fold

# Data: frequent English and French function words (folded), not intent keywords.
_ENGLISH = frozenset(
    """
    i my me the a an is are was am be how what where when who which why can could do does
    did to please thanks thank you your hello hi hey want would should for with not no
    dont doesnt didnt cant in on of it have has there this that get got find lost forgot
    arrived never any anymore still from need know
    """.split()  # noqa: SIM905
)
_FRENCH = frozenset(
    """
    je j le la les l de des du d un une est pas mon ma mes et pour qui que quoi comment ou
    on il elle vous tu c ai sur dans avec ne plus au aux ce ca se sais suis faire
    """.split()  # noqa: SIM905
)


def is_english(text: str) -> bool:
    """True when the message reads as English rather than French."""
    words = fold(text).split()
    english = sum(w in _ENGLISH for w in words)
    french = sum(w in _FRENCH for w in words)
    return english >= 2 and english > french
