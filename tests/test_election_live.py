"""Live election facts: admins set them in Telegram or the CLI; voters see them next message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.election import Election, load_election
from bot.settings import Settings
from tests.conftest import Chat, make_settings, votebot_cli

ADMIN = 42  # VOTEBOT_ADMINS in the test settings
PORTAL = "https://www.education.gouv.fr/electionspro2026/portail/accueil"


@pytest.fixture
def election() -> Election:
    return load_election("creteil-2026")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, VOTEBOT_NOW="2026-11-30T10:00")


async def test_admin_publishes_the_portal_link_and_the_next_voter_sees_it(app, api) -> None:
    voter, admin = Chat(app, api, 1001), Chat(app, api, ADMIN)
    await voter.say("lien du portail")
    assert "Le lien du portail élections 2026 n'est pas encore publié" in voter.texts()[-1]
    assert "espace « élections professionnelles »" in voter.texts()[-1]

    await admin.say("/election")
    assert "pas encore publié" in admin.texts()[-1] and "portal_url" in admin.texts()[-1]
    await admin.say(f"/election set portal_url {PORTAL}")
    assert "✅" in admin.texts()[-1] and "non envoyé" in admin.texts()[-1]

    await voter.say("lien du portail")
    assert PORTAL in voter.texts()[-1]
    assert "pas encore publié" not in voter.texts()[-1]


async def test_publishing_an_awaited_fact_drafts_a_broadcast_that_is_never_sent_alone(
    app, api
) -> None:
    admin = Chat(app, api, ADMIN)
    store = app.bot_data.services.store
    await admin.say(f"/election set portal_url {PORTAL}")
    drafts = {b.plan_key: b for b in await store.planned_reminders()}
    draft = drafts["published_portal_url"]
    assert draft.state == "planned"  # switched off until a person reviews it
    assert PORTAL in draft.text
    # Correcting a fact already published drafts nothing new.
    await admin.say(f"/election set portal_url {PORTAL}x")
    assert "non envoyé" not in admin.texts()[-1]


async def test_a_bad_value_is_refused_and_nothing_changes(app, api) -> None:
    admin = Chat(app, api, ADMIN)
    services = app.bot_data.services
    await admin.say("/election set portal_url http://example.fr/")
    assert "❌" in admin.texts()[-1] and "https" in admin.texts()[-1]
    await admin.say("/election set vote_closes 2026-12-02T17:00")
    assert "❌" in admin.texts()[-1] and "calendar" in admin.texts()[-1]
    assert services.election.portal_url is None
    assert await services.store.election_history("creteil-2026") == []


async def test_the_closing_time_set_in_telegram_is_paris_time_for_voters(app, api) -> None:
    voter, admin = Chat(app, api, 1001), Chat(app, api, ADMIN)
    await admin.say("/election set vote_closes 2026-12-10 17:00")
    await voter.say("/menu")
    assert "jeudi 10 décembre 2026 à 17h00" in voter.texts()[-1]
    await admin.say("/election history")
    assert "vote_closes" in admin.texts()[-1] and str(ADMIN) in admin.texts()[-1]


async def test_a_voter_trying_election_gets_the_unknown_command_answer(chat: Chat) -> None:
    await chat.say("/frobnicate")
    unknown = chat.texts()[-2].replace("frobnicate", "X")
    await chat.say(f"/election set portal_url {PORTAL}")
    assert chat.texts()[-2].replace("election", "X") == unknown
    assert chat.app.bot_data.services.election.portal_url is None


async def test_a_fact_set_from_the_command_line_reaches_the_running_bot(
    app, api, tmp_path: Path
) -> None:
    services = app.bot_data.services
    env = {
        **os.environ,
        "VOTEBOT_DB": str(services.settings.db_path),
        "VOTEBOT_NOW": "2026-11-30T10:00",
    }
    env.pop("VOTEBOT_ELECTION", None)
    votebot_cli(tmp_path, env, "election", "set", "portal_url", PORTAL)
    await services.refresh_live()  # what the bot's refresh job does every 30 seconds
    voter = Chat(app, api, 1001)
    await voter.say("lien du portail")
    assert PORTAL in voter.texts()[-1]


def test_cli_election_show_set_history_check(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOTEBOT_", "TELEGRAM_"))}
    env |= {"VOTEBOT_DB": str(tmp_path / "v.sqlite3"), "VOTEBOT_NOW": "2026-11-30T10:00"}

    def votebot(*args: str, check: bool = True) -> tuple[int, str, str]:
        proc = votebot_cli(tmp_path, env, *args, check=check)
        return proc.returncode, proc.stdout, proc.stderr

    code, out, _ = votebot("election", "check", check=False)
    assert code == 1
    assert "missing\tportal_url" in out and "missing\tvote_closes" in out
    assert "unverified\telectorate" in out
    code, _, err = votebot("election", "set", "portal_url", "http://x.fr/", check=False)
    assert code == 2 and "https" in err
    _, out, _ = votebot("election", "set", "portal_url", PORTAL)
    assert "broadcast drafted for review, not sent: published_portal_url" in out
    _, out, _ = votebot("election", "show")
    assert f"portal_url\t{PORTAL}\tset by cli at 2026-11-30T" in out
    assert "notice_deadline\t-\tnot published" in out
    _, out, _ = votebot("election", "history")
    assert f"\tportal_url\t{PORTAL}\tcli" in out
    code, out, _ = votebot("election", "check", check=False)
    assert "portal_url" not in out and "missing\tvote_closes" in out
    _, out, _ = votebot("reminders", "plan")
    assert "published_portal_url" in out and "planned" in out


async def test_reminders_nobody_edited_follow_a_published_closing_time(app, api) -> None:
    admin = Chat(app, api, ADMIN)
    store = app.bot_data.services.store
    await admin.say("/calendrier")  # the plan derived from the facts known today
    plan = {b.plan_key: b for b in await store.planned_reminders()}
    assert "17h00" not in plan["last_morning"].text and "last_afternoon" not in plan
    await store.edit_reminder("eve", text="Texte de l'admin")
    await admin.say("/election set vote_closes 2026-12-10T17:00")
    plan = {b.plan_key: b for b in await store.planned_reminders()}
    assert "ferme aujourd'hui à 17h00" in plan["last_morning"].text
    assert "last_afternoon" in plan and plan["last_afternoon"].state == "planned"
    assert plan["eve"].text == "Texte de l'admin"  # an admin's own words are kept
