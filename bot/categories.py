"""Staff categories and départements, read from a voter's words or from a CSV cell.

One parser for the chat (directory, roll questions, profile statements) and for both CSV
imports (roll and directory). `parse_query` reads free text; `category` and `departement`
read a cell, where a code, a postcode or a name may stand: "93", "093", "93000", "93 000",
"Seine-Saint-Denis" all mean département 93; Corsica is 2A / 2B (postcodes 200xx–201xx /
202xx and up), overseas départements 971–976 (postcodes 971xx–976xx).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.election import Category
from bot.textfold import padded

# Free-text synonyms, written folded (lower case, no accents, apostrophes and hyphens as
# spaces). The earliest match in the text wins.
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    Category.AESH: (
        "aesh",
        "avs",
        "accompagnants?",
        "accompagnantes?",
        "accompagnement",
        "situation de handicap",
    ),
    Category.AED: (
        "aed",
        "assistants? d education",
        "assistantes? d education",
        "surveillants?",
        "surveillantes?",
        "pions?",
        "ahe",
        "vie scolaire",
    ),
    Category.PREMIER_DEGRE: (
        "premier degre",
        "1er degre",
        "1 er degre",
        "1d",
        "profs? des ecoles",
        "professeurs? des ecoles",
        "professeures? des ecoles",
        "pe",
        "instits?",
        "instituteurs?",
        "institutrices?",
        "ecoles?",
        "primaires?",
        "maternelles?",
        "elementaires?",
        "directeurs? d ecole",
        "directrices? d ecole",
    ),
    Category.SECOND_DEGRE: (
        "second degre",
        "seconde degre",
        "2nd degre",
        "2nd",
        "2d degre",
        "2nd d",
        "2d",
        "colleges?",
        "lycees?",
        "certifies?",
        "agreges?",
        "plp",
        "cpe",
        "conseillers? principa(?:l|ux) d education",
        "psy ?en",
        "psys?",
        "psychologues?",
        "profs? de (?:college|lycee)",
        "professeurs? de (?:college|lycee)",
    ),
    Category.ATSS: (
        "atss",
        "tss",
        "administratifs?",
        "administratives?",
        "techniques?",
        "sociaux",
        "social",
        "sociales?",
        "sante",
        "infirmiers?",
        "infirmieres?",
        "secretaires?",
        "secretariat",
        "adjaenes?",
        "saenes?",
        "attaches?",
        "gestionnaires?",
        "intendance",
        "medecins?",
        "assistants? social",
        "assistantes? sociales?",
    ),
}
# The académie and its neighbours, by name, code or postcode ("94000", "94 000").
_DEPARTEMENT_WORDS: dict[str, tuple[str, ...]] = {
    "75": ("paris",),
    "77": ("seine et marne", "77", r"77 ?\d{3}"),
    "78": ("yvelines", "78", r"78 ?\d{3}"),
    "91": ("essonne", "91", r"91 ?\d{3}"),
    "92": ("hauts de seine", "92", r"92 ?\d{3}"),
    "93": ("seine saint denis", "seine st denis", "ssd", "93", r"93 ?\d{3}", "neuf trois"),
    "94": ("val de marne", "94", r"94 ?\d{3}", "vdm"),
    "95": ("val d oise", "95", r"95 ?\d{3}"),
    "2A": ("corse du sud",),
    "2B": ("haute corse",),
}
CATEGORY_PATTERNS = [
    (str(cat), re.compile(r"\b(?:" + "|".join(words) + r")\b"))
    for cat, words in _CATEGORY_WORDS.items()
]
DEPARTEMENT_PATTERNS = [
    (dep, re.compile(r"\b(?:" + "|".join(words) + r")\b"))
    for dep, words in _DEPARTEMENT_WORDS.items()
]
CATEGORIES = frozenset(c.value for c in Category)
# Every département code: 01–95 (20 became 2A and 2B in 1976), overseas 971–976.
DEPARTEMENT_CODES = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20]
    + ["2A", "2B"]
    + [str(n) for n in range(971, 977)]
)
# A code in a cell: Corsica, a postcode (five digits, maybe "93 000"), or up to three digits.
_CODE = re.compile(r"\b(?:(2[ab])|(\d{2}) ?(\d{3})|(\d{1,3}))\b")


def _earliest(
    text: str, patterns: list[tuple[str, re.Pattern[str]]]
) -> tuple[str, re.Match[str]] | None:
    best: tuple[str, re.Match[str]] | None = None
    for value, pattern in patterns:
        match = pattern.search(text)
        if match and (
            best is None
            or (match.start(), -len(match.group())) < (best[1].start(), -len(best[1].group()))
        ):
            best = (value, match)
    return best


def parse_query(text: str) -> tuple[str | None, str | None] | None:
    """(category, département) understood in free text, None when neither is there.

    "aesh 93" → ("aesh", "93"); "adresse pour un prof des écoles du 94" →
    ("premier_degre", "94"); "psy EN" → ("second_degre", None); "val de marne" → (None, "94").
    """
    folded = padded(text)
    category = _earliest(folded, CATEGORY_PATTERNS)
    rest = folded
    if category is not None:
        start, end = category[1].span()
        rest = folded[:start] + " " + folded[end:]
    departement = _earliest(rest, DEPARTEMENT_PATTERNS)
    if category is None and departement is None:
        return None
    return (
        category[0] if category else None,
        departement[0] if departement else None,
    )


@lru_cache(maxsize=4096)
def category(value: str) -> str | None:
    """The category a CSV cell names ("AESH", "Premier degré", "Psy-EN"...), or None."""
    value = value.strip()
    if not value or value in CATEGORIES:
        return value or None
    parsed = parse_query(value)
    return parsed[0] if parsed else None


@lru_cache(maxsize=4096)
def departement(value: str) -> str | None:
    """The département a CSV cell names: a code, a postcode or a name; None if none."""
    match = _CODE.search(padded(value))
    if match is None:
        parsed = parse_query(value) if value.strip() else None
        return parsed[1] if parsed else None
    corsica, post_head, post_tail, digits = match.groups()
    if corsica:
        code = corsica.upper()
    elif post_head:
        code = _from_postcode(post_head + post_tail)
    else:
        code = digits[1:] if len(digits) == 3 and digits[0] == "0" else digits.zfill(2)
    return code if code in DEPARTEMENT_CODES else None


def _from_postcode(postcode: str) -> str:
    """The département of a postcode: two digits, three overseas, 2A/2B in Corsica."""
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode[2] in "01" else "2B"
    return postcode[:2]
