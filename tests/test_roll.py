"""The electoral roll: name matching, name extraction, import (real SQLite files), CLI."""

from __future__ import annotations

import fcntl
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli.roll import format_report
from bot.roll import Answer, NameKey, RollImportError, extract_name, find, import_roll, on_ballot
from bot.roll.keys import RowKeys
from bot.settings import PARIS
from store import SqliteStore, open_store
from tests.conftest import votebot_cli
from tests.fakes.roll_csv import HEADER, ROWS, write

NOW = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await open_store(tmp_path / "votebot.sqlite3")
    yield s
    await s.close()


@pytest.fixture
async def loaded(store: SqliteStore, tmp_path: Path) -> SqliteStore:
    await import_roll(store, write(tmp_path / "roll.csv", ROWS), NOW)
    return store


# -- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("LEFÈVRE Anne-Sophie", "lefevre anne-sophie"),  # case and accents
        ("LEFÈVRE Anne-Sophie", "Lefèvre Anne Sophie"),  # hyphen = space
        ("LEFEVRE ANNE SOPHIE", "Anne-Sophie Lefèvre"),  # surname / first-name order
        ("N'DIAYE Awa", "Ndiaye Awa"),  # apostrophe inside a name
        ("N’DIAYE Awa", "n'diaye awa"),  # typographic apostrophe
        ("ŒUVRARD Cécile", "Oeuvrard Cecile"),  # ligature Œ
        ("Lætitia Martin", "LAETITIA MARTIN"),  # ligature Æ
        ("DE LA FONTAINE Jean", "Jean Fontaine"),  # particles de, la
        ("DU BELLAY Joachim", "Joachim Bellay"),  # particle du
        ("LE GOFF Yann", "Goff Yann"),  # particle le
        ("D'ARC Jeanne", "Jeanne Arc"),  # particle d'
        ("  MARTIN   Paul ", "paul\tmartin"),  # spaces
        ("LÊ Chloé", "Chloé Le"),  # a "particle" that is the whole surname is kept
    ],
)
def test_names_written_differently_share_the_key(written: str, typed: str) -> None:
    assert NameKey.of(written).key == NameKey.of(typed).key


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("LE GOFF Yann", "LEGOFF Yann"),  # a particle glued to the name
        ("D'ARC Jeanne", "Darc Jeanne"),
        ("MARTIN Anne Sophie", "Martin Annesophie"),  # spaces inside a first name
    ],
)
def test_names_joined_or_split_share_the_loose_key(written: str, typed: str) -> None:
    assert NameKey.of(written).loose == NameKey.of(typed).loose


@pytest.mark.parametrize(
    ("surname", "first_name"),
    [
        ("LEFÈVRE", "Anne-Sophie"),
        ("N’DIAYE", "Awa"),
        ("DE LA FONTAINE", "Jean"),
        ("LÊ", "Chloé"),
        ("LE", "Anne"),
        ("D'ARC", "Jeanne"),
        ("Œuvrard", "Lætitia"),
    ],
)
def test_the_import_keys_names_as_the_look_up_does(surname: str, first_name: str) -> None:
    keys = RowKeys()
    name = NameKey.of(f"{surname} {first_name}")
    for _ in range(2):  # folded, then remembered
        assert keys(surname, first_name) == (name.key, name.loose)
        assert keys(first_name, surname)[0] == name.key
    assert keys("123", first_name) == "a name without letters"
    # Letters the folding does not know (another script) leave one word: refused, not mangled.
    assert keys("MARTIN", "Ольга") == "surname and first name give fewer than two words"


def test_different_people_do_not_share_a_key() -> None:
    assert NameKey.of("Martin Anne").key != NameKey.of("Martin Anne-Sophie").key
    assert NameKey.of("Martin Anne").key != NameKey.of("Martine Anne").key


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?", "Lefèvre Anne-Sophie"),
        ("Est-ce que M. N'Diaye Awa figure sur la liste électorale ?", "N'Diaye Awa"),
        ("ma collègue Jeanne de La Fontaine est-elle inscrite ?", "Jeanne de La Fontaine"),
        ("Marie Dupont, AESH du 93, est-elle bien inscrite ?", "Marie Dupont"),
        ("Vérifier Monsieur Le Goff Yann svp", "Le Goff Yann"),
        ("Lefèvre Anne-Sophie", "Lefèvre Anne-Sophie"),
        ("est-ce que Lefèvre est inscrite ?", "Lefèvre"),
        ("est-ce qu'elle est sur la liste ?", None),
    ],
)
def test_the_name_is_extracted_from_a_question(question: str, name: str | None) -> None:
    assert extract_name(question) == name


# -- look-ups ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "anne-sophie lefevre",
        "LEFEVRE ANNE SOPHIE",
        "Ndiaye Awa",
        "jean fontaine",
        "Jean de la Fontaine",
        "oeuvrard cecile",
        "Legoff Yann",
        "Darc Jeanne",
    ],
)
async def test_found_whatever_the_spelling(loaded: SqliteStore, typed: str) -> None:
    answer = await find(loaded, typed)
    assert answer.status == "found", typed
    assert answer.ballots


async def test_found_says_whether_the_name_is_on_the_guides_ballot(loaded: SqliteStore) -> None:
    answer = await find(loaded, "Laetitia Martin")
    assert on_ballot(answer, "CSA de proximité de Créteil")
    assert not on_ballot(answer, "CSA académique")


async def test_a_surname_alone_or_a_partial_name_finds_nobody(loaded: SqliteStore) -> None:
    assert (await find(loaded, "Lefèvre")).status == "need_first_name"
    assert (await find(loaded, "Lefèvre Anne")).status == "not_found"  # no prefix search
    assert (await find(loaded, "Lef* Anne-Sophie")).status == "not_found"  # no wildcard
    assert (await find(loaded, "%")).status == "need_first_name"


async def test_a_misspelt_name_is_not_found_and_nothing_is_suggested(
    loaded: SqliteStore,
) -> None:
    for typed in ("Lefebvre Anne-Sophie", "Lefevr Anne-Sophie", "Lefebvra Anne-Sophie"):
        answer = await find(loaded, typed)
        assert answer == Answer("not_found"), typed


async def test_before_any_import_the_roll_is_unavailable(store: SqliteStore) -> None:
    assert (await find(store, "Lefèvre Anne-Sophie")).status == "unavailable"


# -- import --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "separator"),
    [
        ("utf-8", False, ";"),
        ("utf-8", True, ";"),
        ("utf-8", False, ","),
        ("cp1252", False, ";"),
        ("cp1252", False, ","),
    ],
)
async def test_import_reads_encodings_and_separators(
    store: SqliteStore, tmp_path: Path, encoding: str, bom: bool, separator: str
) -> None:
    rows = [r.replace(";", separator) for r in ROWS if "Œ" not in r]  # Œ is in cp1252 too
    rows.append(f"ŒUVRARD{separator}Cécile{separator}CSA de proximité de Créteil")
    header = HEADER.replace(";", separator)
    path = tmp_path / "roll.csv"
    data = (header + "\n".join(rows) + "\r\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    report = await import_roll(store, path, NOW)
    assert report.imported == len(rows) and report.rejected_count == 0
    assert report.delimiter == separator
    assert report.encoding == ("cp1252" if encoding == "cp1252" else "utf-8")
    assert (await find(store, "Cécile Œuvrard")).status == "found"
    answer = await find(store, "lefevre anne sophie")
    assert answer.ballots == ("CSA de proximité de Créteil",)


@pytest.mark.parametrize(
    "header",
    [
        "NOM D'USAGE,PRENOM,SCRUTIN",
        "Surname,First name,Ballot",
        "nom de famille,prénom usuel,Libellé du scrutin",
    ],
)
async def test_header_names_are_matched_loosely(
    store: SqliteStore, tmp_path: Path, header: str
) -> None:
    path = write(tmp_path / "r.csv", ["Dupont,Marie,CSA"], header=header + "\n")
    assert (await import_roll(store, path, NOW)).imported == 1
    assert (await find(store, "Marie Dupont")).status == "found"


async def test_rejected_rows_are_reported_with_line_and_reason(
    store: SqliteStore, tmp_path: Path
) -> None:
    rows = [ROWS[0], ";Paul;CSA;;;", "DUPONT;;CSA;;;", "DURAND;Luc;;;;", "123;456;CSA;;;"]
    report = await import_roll(store, write(tmp_path / "r.csv", rows), NOW)
    assert report.imported == 1 and report.rejected_count == 4
    assert report.rejected == [
        (3, "missing surname"),
        (4, "missing first name"),
        (5, "missing ballot"),
        (6, "a name without letters"),
    ]
    text = format_report(report)
    assert ": 1 rows, 4 rejected" in text and "\n  line 3: missing surname" in text


async def test_a_file_without_the_needed_columns_changes_nothing(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    before = await loaded.roll_active()
    path = write(tmp_path / "bad.csv", ["a;b"], header="Nom;Ville\n")
    with pytest.raises(RollImportError, match="first_name, ballot"):
        await import_roll(loaded, path, NOW)
    assert await loaded.roll_active() == before
    assert (await find(loaded, "Ndiaye Awa")).status == "found"


async def test_an_interrupted_import_leaves_the_old_roll_in_service(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    before = await loaded.roll_active()
    new_rows = [f"NOUVEAU{i};Nom{i};CSA;;;" for i in range(50)]
    path = write(tmp_path / "new.csv", new_rows)

    def interrupt(done: int, total: int, rows: int) -> None:
        if rows >= 10:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the import

    with pytest.raises(KeyboardInterrupt):
        await import_roll(loaded, path, NOW, progress=interrupt, chunk=10)
    assert await loaded.roll_active() == before
    assert (await find(loaded, "Anne-Sophie Lefèvre")).status == "found"
    assert (await find(loaded, "Nouveau0 Nom0")).status == "not_found"
    db = sqlite3.connect(tmp_path / "votebot.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM roll_entries").fetchone()[0] == len(ROWS)
    db.close()


async def test_a_killed_import_is_never_served_and_is_cleaned_up(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    # What `kill -9` leaves behind: a generation with rows, never completed.
    generation = await loaded.roll_begin("killed.csv", NOW)
    key = NameKey.of("Fantôme Gaspard")
    await loaded.roll_add(generation, [(generation, key.key, key.loose, "FANTÔME", "Gaspard",
                                        "CSA", None, None, None)])  # fmt: skip
    assert (await find(loaded, "Gaspard Fantôme")).status == "not_found"
    await import_roll(loaded, write(tmp_path / "next.csv", ROWS[:2]), NOW)
    db = sqlite3.connect(tmp_path / "votebot.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM roll_entries").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM roll_generations").fetchone()[0] == 1
    db.close()


async def test_a_new_import_replaces_the_roll(loaded: SqliteStore, tmp_path: Path) -> None:
    await import_roll(loaded, write(tmp_path / "next.csv", ["DURAND;Luc;CSA;;;"]), NOW)
    assert (await find(loaded, "Luc Durand")).status == "found"
    assert (await find(loaded, "Awa Ndiaye")).status == "not_found"
    stats = await loaded.roll_stats(NOW)
    assert stats.entries == 1 and stats.by_ballot == {"CSA": 1}


async def test_a_running_bot_serves_the_roll_another_process_imported(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    """`votebot roll import` runs beside the bot on the same file: the bot's connection sees
    the old roll until the swap, then the new one; nothing of the import is left over."""
    assert (await find(loaded, "Awa Ndiaye")).status == "found"  # the bot has looked up
    cli = await open_store(tmp_path / "votebot.sqlite3")
    try:
        await import_roll(cli, write(tmp_path / "next.csv", ["DURAND;Luc;CSA;;;"]), NOW)
    finally:
        await cli.close()
    assert (await find(loaded, "Luc Durand")).status == "found"
    assert (await find(loaded, "Awa Ndiaye")).status == "not_found"
    db = sqlite3.connect(tmp_path / "votebot.sqlite3")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close()
    assert "roll_import" not in tables
    assert sum(name.startswith("roll_entries_") for name in indexes) == 2


# -- command line --------------------------------------------------------------------------


def test_cli_roll_import_stats_find(tmp_path: Path) -> None:
    env = {**os.environ, "VOTEBOT_DB": str(tmp_path / "v.sqlite3")}
    env.pop("TELEGRAM_BOT_TOKEN", None)

    def votebot(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return votebot_cli(tmp_path, env, *args, check=check)

    path = write(tmp_path / "roll.csv", [*ROWS, ";x;CSA;;;"])
    imported = votebot("roll", "import", str(path))
    summary, rejected = imported.stdout.splitlines()
    assert summary.startswith("roll imported from ") and ": 8 rows, 1 rejected (utf-8" in summary
    assert rejected == "  line 10: missing surname"
    assert imported.stderr == ""  # no progress bar when stderr is not a terminal
    stats = votebot("roll", "stats").stdout
    assert "entries: 8" in stats and "CAP des AESH: 1" in stats
    found = votebot("roll", "find", "anne sophie lefevre").stdout
    assert found.strip() == "found: on the roll of CSA de proximité de Créteil"
    # No suggestion, even for the operator: "did you mean LEFÈVRE Anne-Sophie?" leaked names.
    typo = votebot("roll", "find", "Lefevr Anne-Sophie", check=False).stdout
    assert typo.strip() == "not found"
    missing = votebot("roll", "find", "Lefèvre", check=False)
    assert missing.returncode == 1 and "surname and a first name" in missing.stdout
    assert votebot("roll", "find", "Personne Inconnue", check=False).stdout.strip() == (
        "not found"
    )


def test_cli_roll_import_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "VOTEBOT_DB": str(tmp_path / "v.sqlite3")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    path = write(tmp_path / "roll.csv", ROWS)
    main, terminal = pty.openpty()  # stderr is a terminal, as for an operator
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "roll", "import", str(path)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=60,
            check=True,
        )
        os.close(terminal)
        drawn = b""
        while chunk := _read(main):
            drawn += chunk
    finally:
        os.close(main)
    assert ": 8 rows, 0 rejected" in done.stdout
    assert b"roll: 100%" in drawn and b"8 rows" in drawn  # tqdm, with the rows read


def _read(fd: int) -> bytes:
    """What a pseudo-terminal holds; b"" once its other end is closed and it is drained."""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO on Linux once the other end is closed
        return b""
