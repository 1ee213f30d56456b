"""Broadcasts that cannot go wrong: each bug reported in issue 14, as a broadcaster meets it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.broadcast import Variables
from bot.services import Services
from bot.settings import PARIS
from bot.telegram.delivery import Broadcaster
from store import Audience, Conversation, StepCommit
from tests.conftest import ACTIVATION_NOW, Chat, votebot_cli
from tests.fakes.botapi import FakeBotAPI, button_data

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)
ADMIN = 42
ALICE = 7007  # broadcaster
BOB = 7008  # another broadcaster


async def voter(services: Services, user_id: int, **profile: Any) -> None:
    done = frozenset(profile.pop("done", ()))
    await services.store.commit_step(
        StepCommit(
            Conversation(user_id, "menu", "main", {}),
            first_name=f"V{user_id}",
            profile={"reminders": True, **profile},
            progress_done=done,
        ),
        ACTIVATION_NOW,
    )


async def broadcasters(services: Services) -> None:
    for uid in (ALICE, BOB):
        await services.store.grant_role(uid, "broadcaster", ADMIN, ACTIVATION_NOW)


def worker(services: Services, app: Application, rate: float = 200.0) -> Broadcaster:
    return Broadcaster(
        services.store,
        app.bot,
        Variables(services.renderer, services.election),
        services.renderer,
        services.clock,
        rate=rate,
        backoff=0.01,
    )


def voters_reached(api: FakeBotAPI) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for call in api.delivered:
        chat = int(call.params["chat_id"])
        if chat < 7000:
            out.setdefault(chat, []).append(call.params["text"])
    return out


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def has_label(message: dict[str, Any], part: str) -> bool:
    return any(part in label for label in labels(message))


async def compose(staff: Chat, text: str, *choices: str, when: str | None = None) -> None:
    """/diffusion → text → audience buttons (label pairs) → Continuer → when."""
    await staff.say("/diffusion")
    await staff.say(text)
    for choice in choices:
        await staff.press(choice)
    await staff.press("Continuer")
    if when is None:
        await staff.press("Maintenant")
    else:
        await staff.say(when)


# -- the confirmation is bound to the exact draft it previews ---------------------------------


async def test_confirming_an_old_preview_sends_nothing_and_says_it_expired(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    for uid in range(1, 5):
        await voter(services, uid, category="aesh", departement="93" if uid < 3 else "94")
    staff = Chat(app, api, user_id=ALICE)
    await compose(staff, "Rappel pour le 93", "Département…", "Département 93")
    preview_a = staff.last
    await compose(staff, "TEST TEST ne pas envoyer")
    await staff.press("Confirmer", message=preview_a)
    assert "Cet aperçu a expiré" in staff.texts()[-1]
    assert await services.store.list_broadcasts() == []
    # The current preview still works, and the confirmation restates text, audience, count.
    await staff.press("Confirmer", message=staff_preview(api))
    confirmation = staff.texts()[-1]
    assert "TEST TEST ne pas envoyer" in confirmation
    assert "tous les électeurs inscrits aux rappels" in confirmation
    assert "<b>4</b> destinataires" in confirmation
    await staff.press("Confirmer", message=preview_a)  # and again: still nothing more
    assert len(await services.store.list_broadcasts()) == 1


async def test_aesh_of_93_who_have_not_voted_get_a_reminder_with_a_live_count(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    await voter(services, 1, category="aesh", departement="93")
    await voter(services, 2, category="aesh", departement="93", done={"voted"})
    await voter(services, 3, category="aesh", departement="94")
    await voter(services, 4, category="aed", departement="93")
    staff = Chat(app, api, user_id=ALICE)
    await staff.say("/diffusion")
    await staff.say("Bonjour {prenom}, votez !")
    assert "Destinataires à ce jour : <b>4</b>" in staff.texts()[-1]
    await staff.press("Catégorie…")
    await staff.press("AESH")
    assert "Destinataires à ce jour : <b>3</b>" in staff.texts()[-1]
    await staff.press("Département…")
    await staff.press("Département 93")
    await staff.press("Avancement…")
    await staff.press("pas encore voté")
    screen = staff.texts()[-1]
    assert "AESH du 93 n'ayant pas encore voté" in screen.replace("&#39;", "'")
    assert "Destinataires à ce jour : <b>1</b>" in screen
    assert has_label(staff.last, "Continuer (1 destinataire)")
    # A button label is plain text: no HTML entity shows.
    await staff.press("Avancement…")
    assert has_label(staff.last, "Électeurs n'ayant pas encore voté")
    await staff.press("Quel que soit")
    assert "Destinataires à ce jour : <b>2</b>" in staff.texts()[-1]
    await staff.press("Avancement…")
    await staff.press("pas encore voté")
    await staff.press("Continuer")
    await staff.press("Maintenant")
    await staff.press("M'envoyer un essai")
    assert staff.texts()[-2].startswith("Bonjour Camille, votez !")  # to the broadcaster only
    assert voters_reached(api) == {} and await services.store.list_broadcasts() == []
    await staff.press("Confirmer", message=staff_preview(api))
    await worker(services, app).run_until_idle()
    assert list(voters_reached(api)) == [1]
    sent = voters_reached(api)[1][0]
    assert sent.startswith("Bonjour V1, votez !") and sent.endswith("/rappels</i>")
    report = staff.texts()[-1]
    assert "terminée" in report and "AESH du 93" in report and "votez" in report


def staff_preview(api: FakeBotAPI) -> dict[str, Any]:
    """The newest message to the broadcaster with a "Confirmer" button."""
    mine = sorted(
        (m for (c, _), m in api.messages.items() if c == ALICE), key=lambda m: m["message_id"]
    )
    return next(m for m in reversed(mine) if any("Confirmer" in x for x in labels(m)))


# -- stopping --------------------------------------------------------------------------------


async def test_the_stop_button_halts_sending_within_a_second_and_updates_the_message(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    for uid in range(1, 81):
        await voter(services, uid)
    bid = await services.store.create_broadcast(
        "Rappel", Audience(), ACTIVATION_NOW, ACTIVATION_NOW, created_by=ALICE, report_chat=ALICE
    )
    sender = worker(services, app, rate=20.0)
    sender.start()
    try:
        while len(voters_reached(api)) < 5:
            await asyncio.sleep(0.02)
        progress = staff_progress(api)
        assert "⏹ Arrêter" in labels(progress)
        staff = Chat(app, api, user_id=ALICE)
        await staff.press("Arrêter", message=progress)
        at_stop = len(voters_reached(api))
        await asyncio.sleep(1.5)
        after = len(voters_reached(api))
        assert after <= at_stop + 20  # at most a second of sending at 20/s, then nothing
        await asyncio.sleep(0.5)
        assert len(voters_reached(api)) == after
    finally:
        await sender.stop()
    assert (await services.store.get_broadcast(bid)).state == "cancelled"
    final = api.messages[(ALICE, progress["message_id"])]
    assert "arrêtée" in final["text"] and "en cours" not in final["text"]
    assert not labels(final)


def staff_progress(api: FakeBotAPI) -> dict[str, Any]:
    mine = [m for (c, _), m in api.messages.items() if c == ALICE and "en cours" in m["text"]]
    return mine[0]


async def test_only_the_author_or_an_admin_cancels(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    later = ACTIVATION_NOW + timedelta(days=2)
    bid = await services.store.create_broadcast(
        "x", Audience(), later, ACTIVATION_NOW, created_by=ALICE
    )
    bob = Chat(app, api, user_id=BOB)
    await bob.say("/diffusions")
    await bob.press(f"n°{bid}")
    assert "Annuler" not in " ".join(labels(bob.last))
    await bob.feed(api.press_update(BOB, bob.last, f"bc:cancel:{bid}"))  # forged
    assert "Seul·e l'auteur·e" in bob.texts()[-1].replace("&#39;", "'")
    assert (await services.store.get_broadcast(bid)).state == "scheduled"
    alice = Chat(app, api, user_id=ALICE)
    await alice.say("/diffusions")
    await alice.press(f"n°{bid}")
    await alice.press("Annuler")
    assert (await services.store.get_broadcast(bid)).state == "cancelled"


async def test_a_cancelled_calendar_reminder_can_be_enabled_again(
    app: Application, api: FakeBotAPI, services: Services, tmp_path: Path
) -> None:
    await broadcasters(services)
    admin = Chat(app, api, user_id=ADMIN)
    await admin.say("/calendrier")
    await admin.press("last_morning — activer")
    reminder = {b.plan_key: b for b in await services.store.planned_reminders()}["last_morning"]
    bob = Chat(app, api, user_id=BOB)
    await bob.feed(api.press_update(BOB, admin.last, f"bc:cancel:{reminder.id}"))
    assert (await services.store.get_broadcast(reminder.id)).state == "scheduled"
    await admin.feed(api.press_update(ADMIN, admin.last, f"bc:cancel:{reminder.id}"))
    assert (await services.store.get_broadcast(reminder.id)).state == "cancelled"
    await admin.say("/calendrier")
    assert has_label(admin.last, "last_morning — activer")
    assert await services.store.enable_reminder("last_morning", True)
    assert (await services.store.get_broadcast(reminder.id)).state == "scheduled"


# -- times -----------------------------------------------------------------------------------


async def test_a_time_after_the_vote_closes_is_refused_with_a_way_out(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    staff = Chat(app, api, user_id=ALICE)
    await compose(staff, "Merci d'avoir voté", when="09/12/2022 10:00")
    refused = staff.texts()[-1]
    assert "après la clôture du vote" in refused
    assert {"🚀 Maintenant", "✖️ Abandonner"} <= set(labels(staff.last))
    await staff.say("n'importe quoi")
    assert "Je n'ai pas compris cette date.\nTapez" in staff.texts()[-1].replace("&#39;", "'")
    await staff.say("01/11/2022 10:00")
    assert "déjà passée" in staff.texts()[-1]
    assert await services.store.list_broadcasts() == []


def test_the_cli_refuses_past_times_and_times_after_closing(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    past = votebot_cli(
        tmp_path, env, "broadcast", "--text", "x", "--at", "2022-11-01T10:00", check=False
    )
    assert past.returncode == 2 and "in the past" in past.stderr
    late = votebot_cli(
        tmp_path, env, "reminders", "edit", "eve", "--at", "2022-12-09T10:00", check=False
    )
    assert late.returncode == 2 and "after the vote closes" in late.stderr
    ok = votebot_cli(
        tmp_path,
        env,
        "broadcast",
        "--text",
        "x",
        "--at",
        "2022-11-20T18:00",
        "--audience",
        "category=AESH,departement=93,not_done=voted",
    )
    assert ok.stdout.strip().isdigit()
    listed = votebot_cli(tmp_path, env, "broadcast", "list").stdout
    assert "category=aesh,departement=93,not_done=voted" in listed
    ambiguous = votebot_cli(
        tmp_path, env, "broadcast", "--text", "x", "--audience", "progress=voted", check=False
    )
    assert ambiguous.returncode == 2 and "not_done=voted" in ambiguous.stderr


def test_reminders_cancelled_from_the_cli_can_be_enabled_again(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    votebot_cli(tmp_path, env, "reminders", "enable", "last_morning")
    plan = votebot_cli(tmp_path, env, "reminders", "plan", "last_morning").stdout
    rid = plan.split("\t")[1].lstrip("#")
    votebot_cli(tmp_path, env, "broadcast", "cancel", rid)
    again = votebot_cli(tmp_path, env, "reminders", "enable", "last_morning").stdout
    assert "enable last_morning: done" in again


def test_votebot_commands_behave_in_pipes(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    for i in range(60):
        votebot_cli(tmp_path, env, "broadcast", "--text", f"x{i}")
    run = subprocess.run(
        f"{sys.executable} -m bot broadcast list | head -1",
        shell=True,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.count("\n") == 1
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VOTEBOT_DB": str(tmp_path / "cli.sqlite3"),
        "VOTEBOT_NOW": ACTIVATION_NOW.isoformat(),
        "VOTEBOT_ELECTION": "creteil-2022",
        "TELEGRAM_BOT_TOKEN": "",
    }


async def test_the_preview_is_filled_for_the_send_day(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    staff = Chat(app, api, user_id=ALICE)
    await compose(staff, "Plus que {jours_restants} pour voter", when="06/12/2022 09:00")
    assert staff.texts()[-2].startswith("Plus que 2 jours pour voter")
    await compose(staff, "Plus que {jours_restants} pour voter", when="08/12/2022 09:00")
    assert staff.texts()[-2].startswith("Plus que quelques heures pour voter")
    variables = Variables(services.renderer, services.election)
    last_day = datetime(2022, 12, 8, 8, 30, tzinfo=PARIS)
    assert "0 jour" not in variables.fill("Plus que {jours_restants}", "A", last_day)


# -- smaller bugs ----------------------------------------------------------------------------


async def test_calendar_items_are_one_per_line(app: Application, api: FakeBotAPI) -> None:
    admin = Chat(app, api, user_id=ADMIN)
    await admin.say("/calendrier")
    bullets = [line for line in admin.texts()[-1].splitlines() if line.startswith("•")]
    assert len(bullets) == 6


async def test_an_expired_composer_button_says_what_to_do(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    staff = Chat(app, api, user_id=ALICE)
    await staff.say("/diffusion")
    await staff.say("Texte")
    screen = staff.last
    await staff.press("Abandonner")
    await staff.feed(api.press_update(ALICE, screen, button_data(screen, "Continuer")))
    answer = staff.texts()[-1]
    assert "expiré" in answer and "/diffusion" in answer
    assert "Voici où vous en êtes" not in answer


async def test_figures_after_a_broadcast_and_pages_with_authors(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await broadcasters(services)
    await services.store.commit_step(
        StepCommit(Conversation(ALICE, "menu", "main", {}), first_name="Alice"), ACTIVATION_NOW
    )
    for uid in (1, 2, 3):
        await voter(services, uid)
    bid = await services.store.create_broadcast(
        "Votez", Audience(), ACTIVATION_NOW, ACTIVATION_NOW, created_by=ALICE
    )
    await worker(services, app).run_until_idle()
    later = ACTIVATION_NOW + timedelta(hours=2)
    await services.store.commit_step(
        StepCommit(Conversation(1, "vote", "done", {}), progress_done=frozenset({"voted"})), later
    )
    for uid in (2, 3):
        chat = Chat(app, api, user_id=uid)
        await chat.say("/rappels")
        await chat.press("Ne plus")
    for i in range(11):
        await services.store.create_broadcast(f"n{i}", Audience(), later, later)
    staff = Chat(app, api, user_id=ALICE)
    await staff.say("/diffusions")
    first = staff.texts()[-1]
    assert "page 1/3" in first and "ligne de commande" in first
    await staff.press("Page 2")
    await staff.press("Page 3")
    assert "par Alice" in staff.texts()[-1]
    await staff.press(f"n°{bid}")
    shown = staff.texts()[-1]
    assert "Auteur : Alice" in shown and "Remis : 3" in shown
    assert "2 désinscription(s)" in shown and "1 ont indiqué" in shown


async def test_two_quick_taps_on_confirm_queue_one_broadcast(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    from telegram import Update

    await broadcasters(services)
    staff = Chat(app, api, user_id=ALICE)
    await compose(staff, "Une seule fois")
    preview = staff_preview(api)
    taps = [api.press_update(ALICE, preview, button_data(preview, "Confirmer")) for _ in "ab"]
    await asyncio.gather(*(app.process_update(Update.de_json(t, app.bot)) for t in taps))
    assert len(await services.store.list_broadcasts()) == 1
    assert sum("Cet aperçu a expiré" in t for t in staff.texts()) == 1


def test_the_cli_refuses_a_time_after_the_last_day_while_the_closing_time_is_unpublished(
    tmp_path: Path,
) -> None:
    env = {**cli_env(tmp_path), "VOTEBOT_ELECTION": "creteil-2026"}
    env["VOTEBOT_NOW"] = "2026-12-04T10:00"
    late = votebot_cli(
        tmp_path, env, "broadcast", "--text", "x", "--at", "2026-12-20T10:00", check=False
    )
    assert late.returncode == 2, late.stderr
    assert "Traceback" not in late.stderr
    assert "after the vote closes (last day 2026-12-10" in late.stderr
