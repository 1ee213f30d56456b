"""Reading a spreadsheet's CSV export, for the roll and the directory imports alike.

A byte-order mark is dropped; the separator is `;`, `,` or a tab, whichever the header line
holds most; lines are UTF-8, or Windows-1252 when they are not valid UTF-8 (decided line by
line, so one badly saved line does not change the others); CRLF, LF or CR line ends. Headers
are matched loosely ("Nom d'usage", "PRÉNOM", "Libellé du scrutin", "Département"...).
The file is read in blocks of about a megabyte, so a large roll never sits whole in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from itertools import chain
from typing import BinaryIO

from bot.textfold import fold

BLOCK = 1 << 20


def field(header: str) -> str | None:
    """Which field a column header names, loosely; None for a column nobody reads."""
    h = fold(header)
    if h.startswith("prenom") or h in {"first name", "firstname", "given name", "forename"}:
        return "first_name"
    if h.startswith("nom") or h in {"surname", "last name", "lastname", "family name", "name"}:
        return "surname"
    if any(w in h for w in ("adresse", "address", "mail", "courriel", "contact")):
        return "address"
    if any(w in h for w in ("scrutin", "ballot", "instance", "election", "college")):
        return "ballot"
    if h.startswith("categ") or h in {"category", "corps", "population"}:
        return "category"
    if h.startswith("dep") or h in {"dept", "department"}:
        return "departement"
    if h.startswith("etab") or h in {"school", "establishment", "uai", "rne", "affectation"}:
        return "establishment"
    return None


def _decode_line(raw: bytes) -> tuple[str, bool]:
    """A line as text, and whether it was UTF-8 (else Windows-1252)."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False


class CsvReader:
    """The rows of a CSV export, after its header; `line` is the file line of the last row."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        first = handle.readline()
        self.bytes_read = len(first)
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
        text, self.utf8 = _decode_line(first)
        counts = {d: text.count(d) for d in (";", ",", "\t")}
        self.delimiter = max(counts, key=lambda d: counts[d])
        lines = chain.from_iterable(chain([io.StringIO(text, newline="")], self._blocks()))
        self._reader = csv.reader(lines, delimiter=self.delimiter)
        self.header: list[str] = next(self._reader, [])

    @property
    def encoding(self) -> str:
        """`utf-8`, or `cp1252` when at least one line was not UTF-8."""
        return "utf-8" if self.utf8 else "cp1252"

    @property
    def line(self) -> int:
        """The file line (from 1, the header) where the last row read ends."""
        return self._reader.line_num

    def __iter__(self) -> Iterator[list[str]]:
        return self._reader

    def columns(self, named: Callable[[str], str | None] = field) -> dict[str, int]:
        """Field → column index, from the header (the first column naming a field wins)."""
        found: dict[str, int] = {}
        for i, header in enumerate(self.header):
            name = named(header)
            if name is not None and name not in found:
                found[name] = i
        return found

    def _blocks(self) -> Iterator[io.StringIO]:
        """The rest of the file as decoded blocks of whole lines."""
        while block := self.handle.read(BLOCK):
            if not block.endswith(b"\n"):
                block += self.handle.readline()
            self.bytes_read += len(block)
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError:
                parts = [_decode_line(raw) for raw in block.splitlines(keepends=True)]
                self.utf8 &= all(utf8 for _, utf8 in parts)
                text = "".join(line for line, _ in parts)
            yield io.StringIO(text, newline="")


def blank(row: list[str]) -> bool:
    """Whether a row has nothing but spaces (an empty line, or only separators)."""
    return not any(cell.strip() for cell in row)
