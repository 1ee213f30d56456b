"""The election configuration reproduces the guide and refuses what is missing."""

from datetime import datetime
from pathlib import Path

import pytest

from bot.election import (
    ConfigError,
    Phase,
    current_builtin,
    load_election,
    parse_fact,
    with_facts,
)
from bot.settings import PARIS


def test_creteil_2022_reproduces_the_guide() -> None:
    e = load_election("creteil-2022")
    assert e.portal_url == (
        "https://www.education-jeunesse-recherche-sports.gouv.fr/electionspro2022/portail/accueil"
    )
    assert e.webmel_url.startswith("https://webmel.ac-creteil.fr/iwc_static/layout/login.html")
    assert e.email_domain == "ac-creteil.fr"
    cal = e.calendar
    assert cal.at(cal.vote_opens) == datetime(2022, 12, 1, tzinfo=PARIS)
    assert cal.at(cal.vote_closes) == datetime(2022, 12, 8, 17, 0, tzinfo=PARIS)
    assert {c.address for c in e.directory} == {
        "electionspro-1erdegre77@ac-creteil.fr",
        "electionspro-1erdegre93@ac-creteil.fr",
        "electionspro-1erdegre94@ac-creteil.fr",
        "electionspro-2nddegre@ac-creteil.fr",
        "electionspro-aed@ac-creteil.fr",
        "electionspro-aesh77@ac-creteil.fr",
        "electionspro-aesh93@ac-creteil.fr",
        "electionspro-aesh94@ac-creteil.fr",
        "electionspro-atss@ac-creteil.fr",
    }
    assert e.contact("aesh", "94").address == "electionspro-aesh94@ac-creteil.fr"
    assert e.contact("second_degre", "77").address == "electionspro-2nddegre@ac-creteil.fr"
    assert e.contact("premier_degre", None) is None


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (datetime(2022, 10, 1, 12, 0), Phase.BEFORE_PORTAL),
        (datetime(2022, 10, 13, 0, 0), Phase.ACTIVATION),
        (datetime(2022, 11, 30, 23, 59), Phase.ACTIVATION),
        (datetime(2022, 12, 1, 0, 0), Phase.VOTING),
        (datetime(2022, 12, 8, 16, 59), Phase.VOTING),
        (datetime(2022, 12, 8, 17, 0), Phase.CLOSED),
    ],
)
def test_phase_follows_the_calendar_in_paris_time(moment: datetime, phase: Phase) -> None:
    assert load_election("creteil-2022").phase(moment.replace(tzinfo=PARIS)) == phase


def test_creteil_2026_loads_with_its_unpublished_facts_as_unknown() -> None:
    e = load_election("creteil-2026")
    assert e.portal_url is None
    assert e.missing() == ["portal_url", "portal_opens", "notice_deadline", "vote_closes"]
    assert e.calendar.closing_day.isoformat() == "2026-12-10"
    # Unknown closing hour: voting counts as open until the end of the last day.
    assert e.phase(datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)) == Phase.ACTIVATION
    assert e.phase(datetime(2026, 12, 10, 22, 0, tzinfo=PARIS)) == Phase.VOTING
    assert e.phase(datetime(2026, 12, 11, 0, 0, tzinfo=PARIS)) == Phase.CLOSED


def test_operator_file_extends_creteil_2026_with_the_missing_values(tmp_path: Path) -> None:
    local = tmp_path / "local.toml"
    local.write_text(
        'extends = "creteil-2026"\nportal_url = "https://elections.example.gouv.fr/"\n'
        "[calendar]\nportal_opens = 2026-10-15\nnotice_deadline = 2026-11-20\n"
        "vote_closes = 2026-12-11T17:00:00\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"vote_closes must fall on vote_last_day"):
        load_election(str(local))
    local.write_text(local.read_text().replace("12-11T", "12-10T"), encoding="utf-8")
    e = load_election(str(local))
    assert e.calendar.at(e.calendar.vote_opens) == datetime(2026, 12, 3, tzinfo=PARIS)
    assert e.missing() == []
    assert len(e.directory) == 9


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2022, 11, 2, 10, 0), "creteil-2022"),
        (datetime(2022, 12, 8, 17, 0), "creteil-2026"),
        (datetime(2026, 11, 30, 10, 0), "creteil-2026"),
        (datetime(2027, 1, 1, 10, 0), "creteil-2026"),
    ],
)
def test_the_default_is_the_builtin_election_whose_vote_has_not_closed(
    now: datetime, expected: str
) -> None:
    assert current_builtin(now.replace(tzinfo=PARIS)) == expected


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("portal_url", "http://elections.example.fr/", "https"),
        ("portal_url", "https://", "https"),
        ("vote_closes", "2026-12-02T17:00", "calendar"),
        ("vote_closes", "2026-12-11T17:00", "vote_last_day"),
        ("vote_closes", "demain", "date"),
        ("portal_opens", "2026-12-05", "calendar"),
        ("colour", "red", "unknown fact"),
    ],
)
def test_a_fact_is_validated_like_the_configuration(key: str, value: str, problem: str) -> None:
    e = load_election("creteil-2026")
    with pytest.raises(ConfigError, match=problem):
        with_facts(e, {key: parse_fact(key, value)})


def test_a_naive_closing_time_is_paris_time() -> None:
    e = with_facts(load_election("creteil-2026"), {"vote_closes": "2026-12-10T17:00"})
    assert e.calendar.closes_at() == datetime(2026, 12, 10, 17, 0, tzinfo=PARIS)
    assert e.phase(datetime(2026, 12, 10, 16, 59, tzinfo=PARIS)) == Phase.VOTING
    assert e.phase(datetime(2026, 12, 10, 17, 0, tzinfo=PARIS)) == Phase.CLOSED


def test_unknown_configuration_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"VOTEBOT_ELECTION.*creteil-2022"):
        load_election("nowhere-1999")
