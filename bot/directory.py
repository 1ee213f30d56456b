"""The contact directory: the snapshot templates read, the chat entry points, CSV import.

Entry point for the intent router (intent `colleague_missing_contact`)::

    state = directory_entry(text, ctx)        # always a "directory.<state>"
    return Route(goto=state)

`directory_entry` parses the text with `bot.categories.parse_query`, writes the result into
`ctx.data["dir_category"]` / `ctx.data["dir_departement"]` and names the step to show:
`directory.address` (everything known), `directory.departement` (a category that depends
on the département, département unknown), `directory.category_in_dep` (only the département
is known) or `directory.category` (nothing understood; that step shows the voter's own
address first when their profile has it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot import categories
from bot.categories import parse_query
from bot.csvfile import CsvReader, blank
from bot.election import Category, Election
from bot.flows import Context
from bot.flows.directory import BY_DEPARTEMENT, CATEGORY, DEPARTEMENT
from store import DirectoryEntry

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
    parsed = parse_query(text) or (None, None)
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
    parsed = parse_query(text)
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


def parse_directory_csv(raw: bytes, election: Election) -> list[DirectoryEntry]:
    """Validate a directory CSV (category, département, address); every error is reported."""
    table = CsvReader(io.BytesIO(raw))
    if not table.header:
        raise DirectoryImportError("empty file")
    columns = table.columns()
    missing = [c for c in ("category", "address") if c not in columns]
    if missing:
        raise DirectoryImportError(f"missing column(s): {', '.join(missing)}")
    entries: list[DirectoryEntry] = []
    errors: list[str] = []
    for row in table:
        if blank(row):
            continue
        line = table.line

        def cell(name: str, row: list[str] = row) -> str:
            i = columns.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        category = categories.category(cell("category"))
        dep_raw = cell("departement")
        departement = categories.departement(dep_raw) if dep_raw else None
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
