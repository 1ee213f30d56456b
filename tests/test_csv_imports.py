"""The roll and the directory read spreadsheet exports with one reader and one parser: the same
tricky file (byte-order mark, `;` or `,`, CRLF, Windows-1252, postcodes) gives both the same
categories and départements."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from bot.categories import category, departement
from bot.csvfile import CsvReader
from bot.directory import parse_directory_csv
from bot.election import Election
from bot.roll import find, import_roll
from bot.settings import PARIS
from store import DirectoryEntry, open_store

NOW = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)

# One export holding both a roll and a directory: every row a person and an address.
HEADER = ["Nom", "Prénom", "Scrutin", "Catégorie", "Département", "Adresse électronique"]
ROWS = [
    ["LEFÈVRE", "Anne-Sophie", "CSA", "Premier degré", "77", "pd77@ac-creteil.fr"],
    ["ŒUVRARD", "Cécile", "CSA", "premier_degre", "93000", "pd93@ac-creteil.fr"],
    ["N'DIAYE", "Awa", "CSA", "1er degré", "94 000", "pd94@ac-creteil.fr"],
    ["DE LA FONTAINE", "Jean", "CSA", "Second degré", "", "second@ac-creteil.fr"],
    ["MARTIN", "Lætitia", "CSA", "AED", "", "aed@ac-creteil.fr"],
    ["LE GOFF", "Yann", "CSA", "AESH", "Seine-et-Marne", "aesh77@ac-creteil.fr"],
    ["D'ARC", "Jeanne", "CSA", "AESH", "093", "aesh93@ac-creteil.fr"],
    ["DUPONT", "Marie", "CSA", "AESH", "Val-de-Marne (94)", "aesh94@ac-creteil.fr"],
    ["GARCÍA", "José", "CSA, académie de Créteil", "ATSS", "", "atss@ac-creteil.fr"],
]
EXPECTED_DIRECTORY = [
    DirectoryEntry("premier_degre", "77", "pd77@ac-creteil.fr"),
    DirectoryEntry("premier_degre", "93", "pd93@ac-creteil.fr"),
    DirectoryEntry("premier_degre", "94", "pd94@ac-creteil.fr"),
    DirectoryEntry("second_degre", None, "second@ac-creteil.fr"),
    DirectoryEntry("aed", None, "aed@ac-creteil.fr"),
    DirectoryEntry("aesh", "77", "aesh77@ac-creteil.fr"),
    DirectoryEntry("aesh", "93", "aesh93@ac-creteil.fr"),
    DirectoryEntry("aesh", "94", "aesh94@ac-creteil.fr"),
    DirectoryEntry("atss", None, "atss@ac-creteil.fr"),
]
EXPECTED_DEPARTEMENTS = {"77": 2, "93": 2, "94": 2, "": 3}


def export(encoding: str, bom: bool, delimiter: str, line_end: str) -> bytes:
    """The export as a spreadsheet would save it (quoting a cell holding the delimiter)."""
    out = io.StringIO()
    for row in [HEADER, *ROWS]:
        cells = [f'"{c}"' if delimiter in c else c for c in row]
        out.write(delimiter.join(cells) + line_end)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


VARIANTS = [
    ("utf-8", True, ";", "\r\n"),
    ("utf-8", False, ",", "\n"),
    ("cp1252", False, ";", "\r\n"),
    ("cp1252", False, ",", "\r\n"),
]


@pytest.mark.parametrize(("encoding", "bom", "delimiter", "line_end"), VARIANTS)
async def test_roll_and_directory_read_the_same_file_alike(
    tmp_path: Path, election: Election, encoding: str, bom: bool, delimiter: str, line_end: str
) -> None:
    raw = export(encoding, bom, delimiter, line_end)
    assert parse_directory_csv(raw, election) == EXPECTED_DIRECTORY
    path = tmp_path / "export.csv"
    path.write_bytes(raw)
    store = await open_store(tmp_path / "v.sqlite3")
    try:
        report = await import_roll(store, path, NOW)
        assert (report.imported, report.rejected_count) == (len(ROWS), 0)
        assert (report.encoding, report.delimiter) == (encoding, delimiter)
        stats = await store.roll_stats(NOW)
        assert stats.by_departement == EXPECTED_DEPARTEMENTS
        assert stats.by_category == {"premier_degre": 3, "aesh": 3, "second_degre": 1,
                                     "aed": 1, "atss": 1}  # fmt: skip
        assert set(stats.by_ballot) == {"CSA", "CSA, académie de Créteil"}
        for typed in ("Cécile Oeuvrard", "ndiaye awa", "jose garcia"):
            assert (await find(store, typed)).status == "found", typed
    finally:
        await store.close()


async def test_a_line_saved_in_windows_1252_inside_a_utf8_file_is_read(
    tmp_path: Path, election: Election
) -> None:
    utf8 = export("utf-8", True, ";", "\r\n").splitlines(keepends=True)
    utf8[5] = ";".join(ROWS[4]).encode("cp1252") + b"\r\n"  # MARTIN Lætitia, in cp1252
    raw = b"".join(utf8)
    assert parse_directory_csv(raw, election) == EXPECTED_DIRECTORY
    path = tmp_path / "mixed.csv"
    path.write_bytes(raw)
    store = await open_store(tmp_path / "v.sqlite3")
    try:
        report = await import_roll(store, path, NOW)
        assert (report.imported, report.encoding) == (len(ROWS), "cp1252")
        assert (await find(store, "Laetitia Martin")).status == "found"
        assert (await find(store, "Anne-Sophie Lefèvre")).status == "found"  # UTF-8 lines
    finally:
        await store.close()


def test_the_byte_order_mark_is_not_part_of_the_first_header() -> None:
    table = CsvReader(io.BytesIO(export("utf-8", True, ";", "\r\n")))
    assert table.header == HEADER
    assert [row[0] for row in table][:2] == ["LEFÈVRE", "ŒUVRARD"]
    assert table.line == len(ROWS) + 1


def test_rows_report_their_line_in_the_file_even_with_a_quoted_line_break() -> None:
    raw = b'Nom;Adresse\r\nA;"1 rue\r\nB"\r\nC;x\r\n'
    table = CsvReader(io.BytesIO(raw))
    lines = [(row[0], table.line) for row in table]
    assert lines == [("A", 3), ("C", 4)]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("93", "93"),
        ("093", "93"),
        ("93000", "93"),
        ("93 000", "93"),
        ("94 - Val-de-Marne", "94"),
        ("Bobigny (93)", "93"),
        ("Seine-Saint-Denis", "93"),
        ("seine et marne", "77"),
        ("77100 Meaux", "77"),
        ("1", "01"),
        ("01000", "01"),
        ("2A", "2A"),
        ("2b", "2B"),
        ("20000", "2A"),  # Ajaccio
        ("20200", "2B"),  # Bastia
        ("Haute-Corse", "2B"),
        ("971", "971"),
        ("97400", "974"),  # La Réunion
        ("97600", "976"),  # Mayotte
        ("20", None),  # Corsica has been 2A and 2B since 1976
        ("99", None),
        ("98000", None),  # Monaco
        ("", None),
        ("inconnu", None),
    ],
)
def test_a_departement_cell_is_a_code_a_postcode_or_a_name(cell: str, code: str | None) -> None:
    assert departement(cell) == code


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("aesh", "aesh"),
        ("AESH", "aesh"),
        ("Premier degré", "premier_degre"),
        ("2nd degré", "second_degre"),
        ("Psy-EN", "second_degre"),
        ("CPE", "second_degre"),
        ("Adjaenes", "atss"),
        ("", None),
        ("inconnue", None),
    ],
)
def test_a_category_cell_is_a_code_or_words(cell: str, code: str | None) -> None:
    assert category(cell) == code
