"""The contact directory: free-text parsing, the in-memory snapshot templates read, CSV import.

Entry point for the intent router (intent `colleague_missing_contact`)::

    state = directory_entry(text, ctx)        # always a "directory.<state>"
    return Route(goto=state)

`directory_entry` parses the text with `parse_directory_query`, writes the result into
`ctx.data["dir_category"]` / `ctx.data["dir_departement"]` and names the step to show:
`directory.address` (everything known), `directory.departement` (a category that depends
on the département, département unknown), `directory.category_in_dep` (only the département
is known) or `directory.category` (nothing understood; that step shows the voter's own
address first when their profile has it).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot import textfold
from bot.election import Category, Election
from bot.flows import Context
from bot.flows.directory import BY_DEPARTEMENT, CATEGORY, DEPARTEMENT
from store import DirectoryEntry

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
_DEPARTEMENT_WORDS: dict[str, tuple[str, ...]] = {
    "75": ("paris",),
    "77": ("seine et marne", "77", r"77\d{3}"),
    "78": ("yvelines", "78", r"78\d{3}"),
    "91": ("essonne", "91", r"91\d{3}"),
    "92": ("hauts de seine", "92", r"92\d{3}"),
    "93": ("seine saint denis", "seine st denis", "ssd", "93", r"93\d{3}", "neuf trois"),
    "94": ("val de marne", "94", r"94\d{3}", "vdm"),
    "95": ("val d oise", "95", r"95\d{3}"),
}
CATEGORY_PATTERNS = [
    (str(cat), re.compile(r"\b(?:" + "|".join(words) + r")\b"))
    for cat, words in _CATEGORY_WORDS.items()
]
DEPARTEMENT_PATTERNS = [
    (dep, re.compile(r"\b(?:" + "|".join(words) + r")\b"))
    for dep, words in _DEPARTEMENT_WORDS.items()
]


def fold(text: str) -> str:
    """Folded text (see bot.textfold) padded with spaces, for whole-word matching."""
    return " " + textfold.fold(text) + " "


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


def parse_directory_query(text: str) -> tuple[str | None, str | None] | None:
    """(category, département) understood in free text, None when neither is there.

    "aesh 93" → ("aesh", "93"); "adresse pour un prof des écoles du 94" →
    ("premier_degre", "94"); "psy EN" → ("second_degre", None); "val de marne" → (None, "94").
    """
    folded = fold(text)
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


# -- the snapshot read by templates --------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """An immutable copy of the directory (9 rows for Créteil), read by templates."""

    entries: tuple[DirectoryEntry, ...]

    @classmethod
    def from_election(cls, election: Election) -> Directory:
        """The directory of the election configuration (the seed)."""
        return cls(
            tuple(
                DirectoryEntry(str(c.category), c.departement, c.address)
                for c in election.directory
            )
        )

    def needs_departement(self, category: str | None) -> bool:
        """Whether the address for `category` depends on the département."""
        return any(e.category == category and e.departement for e in self.entries)

    def address(self, category: str | None, departement: str | None = None) -> str | None:
        """The address for a category, using the département only where it matters."""
        rows = [e for e in self.entries if e.category == category]
        plain = [e for e in rows if e.departement is None]
        if plain and not any(e.departement == departement for e in rows):
            return plain[0].address
        return next((e.address for e in rows if e.departement == departement), None)

    def own(self, profile: dict[str, Any] | None) -> str | None:
        """The address matching a voter's profile, when it is complete enough."""
        if not profile or not profile.get("category"):
            return None
        return self.address(profile.get("category"), profile.get("departement"))


# -- entry points for the chat -------------------------------------------------------------


def directory_entry(text: str, ctx: Context) -> str:
    """Parse `text` into ctx.data and return the directory step to show ("directory.x")."""
    parsed = parse_directory_query(text) or (None, None)
    category, departement = parsed
    profile = ctx.profile or {}
    if (
        category in BY_DEPARTEMENT
        and departement is None
        and profile.get("category") == category
        and profile.get("departement")
    ):
        departement = profile["departement"]
    ctx.data[CATEGORY] = category
    ctx.data[DEPARTEMENT] = departement
    if category is None:
        return "directory.category_in_dep" if departement else "directory.category"
    if category in BY_DEPARTEMENT and departement is None:
        return "directory.departement"
    return "directory.address"


async def directory_text(text: str, ctx: Context) -> str | None:
    """Text handler of the directory steps: free text → trigger (None if not understood).

    A département typed alone keeps the category already chosen in this flow.
    """
    parsed = parse_directory_query(text)
    if parsed is None:
        return None
    chosen = ctx.data.get(CATEGORY)
    if parsed[0] is None and parsed[1] is not None and chosen:
        ctx.data[DEPARTEMENT] = parsed[1]
        return "q_address"
    return "q_" + directory_entry(text, ctx).partition(".")[2]


# -- CSV import ----------------------------------------------------------------------------


class DirectoryImportError(Exception):
    """The directory file is not usable; nothing was changed."""


def _header(name: str) -> str | None:
    h = fold(name).strip()
    if h.startswith("categ") or h in {"category", "corps", "population"}:
        return "category"
    if h.startswith("dep") or h in {"dept", "department", "departement"}:
        return "departement"
    if any(w in h for w in ("adresse", "address", "mail", "courriel", "contact")):
        return "address"
    return None


def parse_directory_csv(raw: bytes, election: Election) -> list[DirectoryEntry]:
    """Validate a directory CSV (category, département, address); every error is reported."""
    text = _decode(raw)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise DirectoryImportError("empty file")
    columns = {_header(h): i for i, h in reversed(list(enumerate(header)))}
    missing = [c for c in ("category", "address") if c not in columns]
    if missing:
        raise DirectoryImportError(f"missing column(s): {', '.join(missing)}")
    entries: list[DirectoryEntry] = []
    errors: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num

        def cell(name: str, row: list[str] = row) -> str:
            i = columns.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        category = _category(cell("category"))
        dep_raw = cell("departement")
        departement = _departement(dep_raw) if dep_raw else None
        address = cell("address")
        if category is None:
            errors.append(f"line {line}: unknown category {cell('category')!r}")
        elif dep_raw and departement not in election.departements:
            errors.append(f"line {line}: unknown departement {dep_raw!r}")
        elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            errors.append(f"line {line}: not an e-mail address {address!r}")
        else:
            entries.append(DirectoryEntry(category, departement, address))
    errors.extend(_coverage_errors(entries, election))
    if errors:
        raise DirectoryImportError("\n".join(errors))
    return entries


def _coverage_errors(entries: Iterable[DirectoryEntry], election: Election) -> list[str]:
    errors = []
    seen: dict[str, list[str | None]] = {}
    for e in entries:
        seen.setdefault(e.category, []).append(e.departement)
    for cat in Category:
        deps = seen.get(cat.value, [])
        if len(deps) != len(set(deps)):
            errors.append(f"{cat.value}: the same address is given twice")
        elif not deps:
            errors.append(f"{cat.value}: no address")
        elif None in deps and len(deps) > 1:
            errors.append(f"{cat.value}: both one address for all and per-departement ones")
        elif None not in deps and set(deps) != set(election.departements):
            absent = sorted(set(election.departements) - set(deps))
            errors.append(f"{cat.value}: no address for departement(s) {', '.join(absent)}")
    return errors


def _category(value: str) -> str | None:
    if value in {c.value for c in Category}:
        return value
    parsed = parse_directory_query(value)
    return parsed[0] if parsed else None


def _departement(value: str) -> str | None:
    if value.strip().lstrip("0").isdigit():
        return value.strip().lstrip("0")
    parsed = parse_directory_query(value)
    return parsed[1] if parsed else None


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
