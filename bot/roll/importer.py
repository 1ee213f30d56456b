"""Importing a roll CSV as a new generation, put in service only once complete.

The file is read by `bot.csvfile` (the directory's reader too), categories and départements
by `bot.categories`, names keyed by `bot.roll.keys.RowKeys`; rows go to the store in chunks,
each one transaction (one hop to SQLite's thread), while the bot keeps serving the previous
roll. On any error or interruption the partial generation is discarded: nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot import categories
from bot.csvfile import CsvReader, blank
from bot.roll.keys import RowKeys
from store import Store
from store.roll import RollRow

REQUIRED = ("surname", "first_name", "ballot")
OPTIONAL = ("category", "departement", "establishment")
MAX_FIELD = 200
MAX_REJECTED_KEPT = 1000  # rejected rows listed in the report; the rest are only counted


class RollImportError(Exception):
    """The file cannot be imported; the roll in service is unchanged."""


@dataclass
class ImportReport:
    """What an import did."""

    source: str
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","
    seconds: float = 0.0

    def reject(self, line: int, reason: str) -> None:
        """Count a rejected row, and keep its line and reason while the list is short."""
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_KEPT:
            self.rejected.append((line, reason))


Progress = Callable[[int, int, int], None]  # (bytes read, total bytes, rows read)


async def import_roll(
    store: Store,
    path: str | Path,
    now: datetime,
    progress: Progress | None = None,
    chunk: int = 20_000,
) -> ImportReport:
    """Import a roll CSV as a new generation and put it in service only once complete.

    Streams the file (one chunk of rows in memory), writes chunks in short transactions
    (the bot keeps serving the previous roll meanwhile), then swaps in one transaction.
    `progress` is called after each chunk.
    """
    path = Path(path)
    started = time.perf_counter()
    total = path.stat().st_size
    report = ImportReport(source=str(path))
    generation: int | None = None
    try:
        with path.open("rb") as handle:
            table = CsvReader(handle)
            report.delimiter = table.delimiter
            columns = table.columns()
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise RollImportError(
                    f"missing column(s) {', '.join(missing)} in the header {table.header!r}"
                )
            generation = await store.roll_begin(str(path), now)
            for batch, read in _batches(table, columns, report, chunk, generation):
                await store.roll_add(generation, batch)
                report.imported += len(batch)
                if progress is not None:
                    progress(table.bytes_read, total, read)
            report.encoding = table.encoding
            if report.imported == 0:
                raise RollImportError("no valid row: the roll in service is unchanged")
            await store.roll_activate(generation, report.imported, report.rejected_count, now)
    finally:
        if generation is not None:
            await store.roll_end()
    report.seconds = time.perf_counter() - started
    return report


def _batches(
    table: CsvReader, columns: dict[str, int], report: ImportReport, chunk: int, generation: int
) -> Iterator[tuple[list[RollRow], int]]:
    """Chunks of rows ready for the store, with the count of rows read so far; rejected rows
    go to the report. The hot loop of an import: locals only, every name part folded once."""
    si, fi, bi = (columns[c] for c in REQUIRED)
    ci, di, ei = (columns.get(c, -1) for c in OPTIONAL)
    width = max(columns.values()) + 1
    keys = RowKeys()
    category, departement = categories.category, categories.departement
    batch: list[RollRow] = []
    read = 0
    for row in table:
        if len(row) < width:
            if blank(row):
                continue
            row += [""] * (width - len(row))
        surname, first_name, ballot = row[si].strip(), row[fi].strip(), row[bi].strip()
        if (
            not (surname and first_name and ballot)
            or len(surname) > MAX_FIELD
            or len(first_name) > MAX_FIELD
            or len(ballot) > MAX_FIELD
        ):
            if blank(row):
                continue
            read += 1
            report.reject(table.line, _reason(surname, first_name, ballot))
            continue
        read += 1
        name = keys(surname, first_name)
        if isinstance(name, str):
            report.reject(table.line, name)
            continue
        key, loose = name
        batch.append(
            (
                generation,
                key,
                loose,
                surname,
                first_name,
                ballot,
                category(row[ci]) if ci >= 0 else None,
                departement(row[di]) if di >= 0 else None,
                (row[ei].strip()[:MAX_FIELD] or None) if ei >= 0 else None,
            )
        )
        if len(batch) >= chunk:
            yield batch, read
            batch = []
    if batch:
        yield batch, read


def _reason(surname: str, first_name: str, ballot: str) -> str:
    """Why a row with an empty or overlong surname, first name or ballot is rejected."""
    for value, label in ((surname, "surname"), (first_name, "first name"), (ballot, "ballot")):
        if not value:
            return f"missing {label}"
        if len(value) > MAX_FIELD:
            return f"{label} longer than {MAX_FIELD} characters"
    return "unreadable row"
