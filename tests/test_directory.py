"""The contact directory: seeded from the configuration, by buttons and by free text."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from telegram.ext import CallbackContext

from bot.categories import parse_query
from bot.directory import (
    Directory,
    DirectoryImportError,
    directory_entry,
    parse_directory_csv,
)
from bot.flows import Context
from bot.telegram.directory import refresh_directory
from store import DirectoryEntry
from tests.conftest import ACTIVATION_NOW, Chat, votebot_cli

# (category button, département button or None, free text, address) for the nine addresses
NINE = [
    ("Premier degré", "Seine-et-Marne", "prof des écoles en Seine-et-Marne", "1erdegre77"),
    ("Premier degré", "Seine-Saint-Denis", "premier degré 93", "1erdegre93"),
    ("Premier degré", "Val-de-Marne", "adresse pour un prof des écoles du 94", "1erdegre94"),
    ("Second degré", None, "psy EN", "2nddegre"),
    ("AED", None, "contact AED", "aed"),
    ("AESH", "Seine-et-Marne", "aesh 77", "aesh77"),
    ("AESH", "Seine-Saint-Denis", "aesh 93", "aesh93"),
    ("AESH", "Val-de-Marne", "AESH val de marne", "aesh94"),
    ("ATSS", None, "une secrétaire administrative", "atss"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aesh 93", ("aesh", "93")),
        ("adresse pour un prof des écoles du 94", ("premier_degre", "94")),
        ("contact AED", ("aed", None)),
        ("second degré", ("second_degre", None)),
        ("psy EN", ("second_degre", None)),
        ("CPE", ("second_degre", None)),
        ("Seine-Saint-Denis", (None, "93")),
        ("val de marne", (None, "94")),
        ("77", (None, "77")),
        ("une AESH dans une école de Créteil 94000", ("aesh", "94")),
        ("bonjour", None),
    ],
)
def test_free_text_is_parsed_into_category_and_departement(text: str, expected) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(("cat", "dep", "text", "address"), NINE, ids=[n[3] for n in NINE])
def test_router_entry_point_reaches_each_address(cat, dep, text, address, election) -> None:
    ctx = Context(now=ACTIVATION_NOW, phase="activation", data={})
    assert directory_entry(text, ctx) == "directory.address"
    directory = Directory.from_election(election)
    found = directory.address(ctx.data["dir_category"], ctx.data["dir_departement"])
    assert found == f"electionspro-{address}@ac-creteil.fr"


def test_router_entry_point_asks_what_is_missing() -> None:
    ctx = Context(now=ACTIVATION_NOW, phase="activation", data={})
    assert directory_entry("aesh", ctx) == "directory.departement"
    assert directory_entry("Seine-Saint-Denis", ctx) == "directory.category_in_dep"
    assert ctx.data["dir_departement"] == "93"
    assert directory_entry("à qui écrire ?", ctx) == "directory.category"
    mine = Context(
        now=ACTIVATION_NOW,
        phase="activation",
        profile={"category": "aesh", "departement": "94"},
        data={},
    )
    assert directory_entry("aesh", mine) == "directory.address"  # the voter's own answer


@pytest.mark.parametrize(("cat", "dep", "text", "address"), NINE, ids=[n[3] for n in NINE])
async def test_each_address_by_buttons(chat: Chat, cat, dep, text, address) -> None:
    await chat.say("/menu")
    await chat.press("absent")
    assert "catégorie" in chat.last["text"]
    await chat.press(cat)
    if dep:
        assert "département" in chat.last["text"]
        await chat.press(dep)
    assert f"electionspro-{address}@ac-creteil.fr" in chat.last["text"]


@pytest.mark.parametrize(("cat", "dep", "text", "address"), NINE, ids=[n[3] for n in NINE])
async def test_each_address_by_free_text(chat: Chat, cat, dep, text, address) -> None:
    await chat.say("/menu")
    await chat.press("absent")
    await chat.say(text)
    assert f"electionspro-{address}@ac-creteil.fr" in chat.last["text"]


async def test_partial_text_then_buttons(chat: Chat) -> None:
    await chat.say("/menu")
    await chat.press("absent")
    await chat.say("Seine-Saint-Denis")
    assert "Seine-Saint-Denis (93)" in chat.last["text"]
    await chat.press("Premier degré")  # the département is not asked again
    assert "electionspro-1erdegre93@ac-creteil.fr" in chat.last["text"]
    await chat.press("autre adresse")
    await chat.say("aesh")
    await chat.press("Seine-et-Marne")
    assert "electionspro-aesh77@ac-creteil.fr" in chat.last["text"]


async def test_a_voter_with_a_profile_sees_their_own_address_first(chat: Chat) -> None:
    await chat.say("/menu")
    store = chat.app.bot_data.services.store
    await store.update_profile(chat.user_id, category="premier_degre", departement="93")
    await chat.press("absent")
    assert "electionspro-1erdegre93@ac-creteil.fr" in chat.last["text"]


# -- store, import, command line -----------------------------------------------------------

GOOD_CSV = """catégorie;département;adresse
Premier degré;77;pd77@ac-creteil.fr
premier_degre;93;pd93@ac-creteil.fr
premier_degre;94;pd94@ac-creteil.fr
second degré;;second@ac-creteil.fr
AED;;aed@ac-creteil.fr
AESH;Seine-et-Marne;aesh77@ac-creteil.fr
AESH;93;aesh93@ac-creteil.fr
AESH;094;aesh94@ac-creteil.fr
ATSS;;atss@ac-creteil.fr
"""


def test_a_directory_csv_is_validated_as_a_whole(election) -> None:
    entries = parse_directory_csv(GOOD_CSV.encode("cp1252"), election)
    assert DirectoryEntry("aesh", "94", "aesh94@ac-creteil.fr") in entries
    assert len(entries) == 9
    bad = GOOD_CSV.replace("aed@ac-creteil.fr", "pas une adresse").replace("AESH;93", "AESH;92")
    with pytest.raises(DirectoryImportError) as caught:
        parse_directory_csv(bad.encode(), election)
    message = str(caught.value)
    assert "line 6: not an e-mail address" in message and "line 8: unknown departement" in message


async def test_the_running_bot_picks_up_an_imported_directory(app, chat: Chat, election) -> None:
    services = app.bot_data.services
    await services.store.directory_replace(parse_directory_csv(GOOD_CSV.encode(), election))

    await refresh_directory(CallbackContext(app))  # what the job queue hands its callbacks
    await chat.say("/menu")
    await chat.press("absent")
    await chat.say("aesh 93")
    assert "aesh93@ac-creteil.fr" in chat.last["text"]
    assert "electionspro" not in chat.last["text"]


def test_cli_directory_list_and_import(tmp_path: Path) -> None:
    env = {**os.environ, "VOTEBOT_DB": str(tmp_path / "v.sqlite3")}

    def votebot(*args: str) -> subprocess.CompletedProcess[str]:
        return votebot_cli(tmp_path, env, *args, check=False)

    listing = votebot("directory", "list").stdout
    assert listing.count("@ac-creteil.fr") == 9  # seeded from the configuration
    assert "aesh\t93\telectionspro-aesh93@ac-creteil.fr" in listing
    bad = tmp_path / "bad.csv"
    bad.write_text("categorie;adresse\nAED;aed@x.fr\n", encoding="utf-8")
    refused = votebot("directory", "import", str(bad))
    assert refused.returncode == 1 and "nothing changed" in refused.stderr
    assert votebot("directory", "list").stdout == listing
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    imported = votebot("directory", "import", str(good))
    assert imported.returncode == 0 and "aesh\t94\taesh94@ac-creteil.fr" in imported.stdout
