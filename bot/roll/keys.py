"""Name keys: the normalised forms of a person's name that roll look-ups match on.

A name becomes tokens: folded by `bot.textfold.fold` (case, accents, ligatures Œ/Æ),
hyphens, spaces and punctuation as separators, apostrophes removed inside names (N'DIAYE =
Ndiaye) while a leading d'/l' is a particle. `key` is the sorted tokens without particles
(de, du, des, d', le, la, les, l'...), so "LEFEVRE ANNE SOPHIE" and "Anne-Sophie Lefèvre"
share it; `loose` is the sorted letters with particles kept, for names written with or
without a space ("Le Goff" = "LEGOFF", "Anne Sophie" = "Annesophie"), confirmed on the token
order. Both are stored per entry and indexed, so a look-up is one or two index probes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import permutations

from bot.textfold import fold

PARTICLES = frozenset("de du des d le la les l van von der den da di del della dos das".split())  # noqa: SIM905
_APOSTROPHES = re.compile(r"[’ʼ`´‘ʻ＇]")
_PARTICLE_APOSTROPHE = re.compile(r"\b([dl])'", re.IGNORECASE)
MAX_TOKENS = 8


def name_tokens(text: str) -> list[str]:
    """Folded tokens of a name, particles included, in the order written."""
    text = _APOSTROPHES.sub("'", text)
    if "'" in text:
        text = _PARTICLE_APOSTROPHE.sub(r"\1 ", text).replace("'", "")
    return fold(text).split()


def _core(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Tokens without particles, unless that leaves fewer than two ("Lê Chloé", "Le Anne")."""
    core = tuple(t for t in tokens if t not in PARTICLES)
    return core if len(core) >= 2 else tokens


@dataclass(frozen=True)
class NameKey:
    """The normalised forms of a name used for matching."""

    tokens: tuple[str, ...]  # every token, in the order written
    core: tuple[str, ...]  # tokens without particles, sorted

    @classmethod
    def of(cls, text: str) -> NameKey:
        """The key of a name (surname and first names in any order)."""
        tokens = tuple(name_tokens(text))
        return cls(tokens, tuple(sorted(_core(tokens))))

    @property
    def key(self) -> str:
        """Sorted tokens without particles: the exact index."""
        return " ".join(self.core)

    @property
    def loose(self) -> str:
        """Sorted letters with particles: the index for names split or joined differently."""
        return "".join(sorted("".join(self.tokens)))


# One name part, folded once: (tokens, tokens without particles, its letters sorted).
_Part = tuple[tuple[str, ...], tuple[str, ...], str]


class RowKeys:
    """`key` and `loose` of many names, each surname and first name folded only once.

    A roll repeats surnames and first names (and a person listed for several ballots is
    several rows in a row): the import's cost per row is a few dictionary look-ups and two
    short sorts. Gives the same keys as `NameKey.of(f"{surname} {first_name}")`.
    """

    def __init__(self) -> None:
        self._parts: dict[str, _Part | None] = {}
        self._surname, self._first = "", ""
        self._keys: tuple[str, str] | str = ""

    def _part(self, text: str) -> _Part | None:
        """Fold one name part and remember it; None when it has no letter."""
        part: _Part | None = None
        if any(c.isalpha() for c in text):
            tokens = tuple(name_tokens(text))
            core = tuple(sorted(t for t in tokens if t not in PARTICLES))
            part = (tokens, core, "".join(sorted("".join(tokens))))
        self._parts[text] = part
        return part

    def __call__(self, surname: str, first_name: str) -> tuple[str, str] | str:
        """(key, loose) of a surname and first name, or why they cannot make a name."""
        if surname == self._surname and first_name == self._first:
            return self._keys  # the same person on the row before (another ballot)
        try:
            s = self._parts[surname]
        except KeyError:
            s = self._part(surname)
        try:
            f = self._parts[first_name]
        except KeyError:
            f = self._part(first_name)
        keys: tuple[str, str] | str
        if s is None or f is None:
            keys = "a name without letters"
        else:
            core = s[1] + f[1]
            if len(core) == 2:  # the usual case: two words in all, no sort needed
                a, b = core
                keys = (f"{a} {b}" if a <= b else f"{b} {a}", "".join(sorted(s[2] + f[2])))
            else:
                if len(core) < 2:  # "Lê Chloé", "Le Anne": the "particle" is the name itself
                    core = s[0] + f[0]
                if len(core) < 2:
                    keys = "surname and first name give fewer than two words"
                else:
                    keys = (" ".join(sorted(core)), "".join(sorted(s[2] + f[2])))
        self._surname, self._first, self._keys = surname, first_name, keys
        return keys


def same_letters_in_some_order(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the tokens of a and b, each put in some order, spell the same letters."""
    if max(len(a), len(b)) > 6:
        return False
    return bool({"".join(p) for p in permutations(a)} & {"".join(p) for p in permutations(b)})
