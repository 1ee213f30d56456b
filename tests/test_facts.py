"""Every fact is traceable: configuration values carry a source, the docs list them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.election import FACTS, builtin_names, fact_value, load_election

ROOT = Path(__file__).parents[1]
SOURCED = ("roll_ballot", "directory", "electorate", "ballot_examples")


@pytest.mark.parametrize("name", builtin_names())
def test_every_configured_fact_has_a_source(name: str) -> None:
    election = load_election(name)
    for key in [k for k in FACTS if fact_value(election, k) is not None] + list(SOURCED):
        assert election.sources.get(key), f"{name}: {key} has no source"
    assert "electorate" in election.unverified  # the contract-staff rule is an inference


def test_the_facts_table_is_in_the_docs() -> None:
    table = (ROOT / "docs" / "FACTS.md").read_text(encoding="utf-8")
    for key in ("portal_url", "vote_opens", "notice_deadline", "roll_ballot", "electorate"):
        assert f"`{key}`" in table


def test_unsourced_statements_are_gone() -> None:
    templates = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "templates").rglob("*.html")
    )
    for claim in (
        "actualisation",
        "impossible de récupérer un code",
        "la fonction et l'établissement de la personne",
    ):
        assert claim not in templates


def test_every_template_the_table_names_exists() -> None:
    table = (ROOT / "docs" / "FACTS.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+/[a-z_*]+\.html)`", table))
    assert named
    for name in named:
        assert list((ROOT / "bot" / "templates").glob(name)), name
