"""Broadcasts: consent, roles, audiences, the composer, and delivery that survives restarts."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.ext import Application

from bot.broadcast import Variables, check_text, default_plan, parse_when
from bot.clock import Clock
from bot.election import Election
from bot.services import Services
from bot.settings import load_settings
from bot.telegram.delivery import Broadcaster
from store import Audience, Conversation, StepCommit
from tests.conftest import ACTIVATION_NOW, Chat
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

# PTB 22 warns when it builds a RetryAfter (429) unless PTB_TIMEDELTA is set; harmless here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)
ADMIN = 42
BROADCASTER = 7007


async def add_voter(
    services: Services,
    user_id: int,
    first_name: str = "Camille",
    reminders: bool | None = True,
    category: str | None = None,
    departement: str | None = None,
    progress: frozenset[str] = frozenset(),
    active: bool = True,
) -> None:
    profile: dict[str, Any] = {"reminders": reminders}
    if category:
        profile["category"] = category
    if departement:
        profile["departement"] = departement
    await services.store.commit_step(
        StepCommit(
            Conversation(user_id, "menu", "main", {}),
            first_name=first_name,
            profile=profile,
            progress_done=progress,
        ),
        ACTIVATION_NOW,
    )
    if not active:
        await services.store.set_active(user_id, False)


def worker(
    services: Services, app: Application, clock: Clock | None = None, **kw: Any
) -> Broadcaster:
    kw.setdefault("rate", 200.0)
    kw.setdefault("backoff", 0.01)
    return Broadcaster(
        services.store,
        app.bot,
        Variables(services.renderer, services.election),
        services.renderer,
        clock or services.clock,
        **kw,
    )


def recorded_slots(w: Broadcaster) -> list[tuple[float, int]]:
    """The times (on the worker's clock) at which the pacer let each send go, and to whom."""
    slots: list[tuple[float, int]] = []
    granted = w.pacer.slot

    async def slot(chat_id: int) -> None:
        await granted(chat_id)
        slots.append((w.clock.monotonic(), chat_id))

    w.pacer.slot = slot  # type: ignore[method-assign]
    return slots


def received(api: FakeBotAPI) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for call in api.delivered:
        out.setdefault(int(call.params["chat_id"]), []).append(call.params["text"])
    return out


# -- consent ---------------------------------------------------------------------------------


async def test_rappels_turns_reminders_on_and_off(chat: Chat, services: Services) -> None:
    await chat.say("/start")
    await chat.say("/rappels")
    assert "pas encore choisi" in chat.texts()[-1]
    await chat.press("Recevoir")
    assert (await services.store.get_user(chat.user_id)).reminders is True
    await chat.say("/rappels")
    assert "Vous avez accepté les rappels" in chat.texts()[-1]
    await chat.press("Ne plus")
    assert (await services.store.get_user(chat.user_id)).reminders is False
    assert "Par quelle étape commençons-nous" in chat.texts()[-1]  # the menu comes with it
    await chat.press("adresse académique")
    conv = await services.store.load_conversation(chat.user_id)
    assert (conv.flow, conv.state) == ("webmel", "has_address")


def test_the_consent_question_returns_to_the_menu() -> None:
    from bot.flows import default_flows

    flow = default_flows()["reminders"]
    assert flow.triggers("ask") == ("yes", "no")
    for answer in ("on", "off"):
        assert flow.step(answer).goto == flow.step(answer).goto | {"webmel": "webmel"}


# -- roles -------------------------------------------------------------------------------------


async def test_non_broadcasters_are_refused_every_broadcast_command(
    chat: Chat, services: Services
) -> None:
    await chat.say("/frobnicate")
    unknown = chat.texts()[-2].replace("frobnicate", "X")
    for command in ("diffusion", "diffusions"):
        await chat.say(f"/{command}")
        assert chat.texts()[-2].replace(command, "X") == unknown
    await chat.feed(chat.api.press_update(chat.user_id, chat.last, "bc:show:1"))
    assert "expiré" in chat.texts()[-2]
    assert await services.store.get_draft(chat.user_id) is None
    assert await services.store.list_broadcasts() == []


# -- audiences ---------------------------------------------------------------------------------


async def test_audiences_select_opted_in_active_voters_who_still_need_it(
    services: Services,
) -> None:
    await add_voter(services, 1, category="aesh", departement="93")
    await add_voter(services, 2, category="aesh", departement="94", progress=frozenset({"voted"}))
    await add_voter(
        services, 3, category="atss", departement="93", progress=frozenset({"account"})
    )
    await add_voter(services, 4, category="aesh", reminders=False)
    await add_voter(services, 5, category="aesh", reminders=None)
    await add_voter(services, 6, category="aesh", active=False)
    store = services.store

    async def chosen(audience: str) -> set[int]:
        bid = await store.create_broadcast(
            "x", Audience.parse(audience), ACTIVATION_NOW, ACTIVATION_NOW
        )
        await store.start_broadcast(bid, ACTIVATION_NOW)
        return {r.user_id for r in await store.next_recipients(bid, 100, time.time())}

    assert await chosen("all") == {1, 2, 3}
    assert await chosen("category=aesh") == {1, 2}
    assert await chosen("departement=93") == {1, 3}
    assert await chosen("not_done=voted") == {1, 3}  # "J'ai voté" stops vote reminders
    assert await chosen("not_done=account") == {1}  # voted implies an activated account
    assert await store.count_audience(Audience.parse("not_done=voted")) == 2
    assert await chosen("category=aesh,departement=93,not_done=voted") == {1}


def test_the_calendar_plan_targets_only_voters_it_still_concerns(election: Election) -> None:
    plan = {r.key: r for r in default_plan(election)}
    assert list(plan) == [
        "portal_opens",
        "notice_week",
        "eve",
        "opening",
        "last_morning",
        "last_afternoon",
    ]
    assert str(plan["portal_opens"].audience) == "not_done=account"
    assert str(plan["notice_week"].audience) == "not_done=vote_code"
    assert all(str(plan[k].audience) == "not_done=voted" for k in list(plan)[2:])
    closes = election.calendar.at(election.calendar.vote_closes)
    assert plan["last_afternoon"].send_at < closes
    assert plan["last_morning"].send_at.date() == closes.date()


# -- text checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('Bonjour {prenom}, <b>votez</b> <a href="https://x.fr">ici</a> &amp; merci', None),
        ('<tg-spoiler>x</tg-spoiler> <span class="tg-spoiler">y</span> <pre>z</pre>', None),
        ("", "empty"),
        ("Bonjour {nom}", "unknown_variable"),
        ("<div>x</div>", "unknown_tag"),
        ("<b>x</i>", "unbalanced"),
        ("<b>x", "unclosed"),
        ("<a>x</a>", "bad_attribute"),
        ('<b onclick="x">x</b>', "bad_attribute"),
        ("1 < 2", "bare_symbol"),
        ("A & B", "bare_symbol"),
        ("&nbsp;", "bad_entity"),
        ("x" * 4016, None),  # room is kept for the opt-out line
        ("x" * 4017, "too_long"),
        ("x" * 4000 + "{prenom}", "too_long"),
        ("Il reste {jours_restants} jours", "days_unit"),
        ("Il reste {jours_restants} pour voter", None),
    ],
)
def test_broadcast_text_is_checked_before_sending(text: str, reason: str | None) -> None:
    problem = check_text(text)
    assert (problem.reason if problem else None) == reason


def test_dates_are_read_in_paris_time(election: Election) -> None:
    at = parse_when("20/11/2022 18:00", election)
    assert at is not None and at.utcoffset() == timedelta(hours=1) and at.hour == 18
    assert parse_when("2022-11-20T18:00:00+00:00", election).hour == 18
    assert parse_when("demain", election) is None


# -- the composer ------------------------------------------------------------------------------


async def test_a_broadcaster_composes_previews_and_sends(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await services.store.grant_role(BROADCASTER, "broadcaster", ADMIN, ACTIVATION_NOW)
    for uid in (1, 2, 3):
        await add_voter(services, uid, first_name=f"V{uid}", category="aesh" if uid < 3 else "aed")
    staff = Chat(app, api, user_id=BROADCASTER)
    await staff.say("/diffusion")
    assert "Nouvelle diffusion" in staff.texts()[-1]
    await staff.say("<b>Bonjour {prenom}</b>, il reste {jours_restants} <div>")
    assert "n'est pas acceptée" in staff.texts()[-1]
    await staff.say("<b>Bonjour {prenom}</b>, vote jusqu'au {date_cloture}")
    await staff.press("Catégorie")
    await staff.press("AESH")
    assert "Destinataires à ce jour : <b>2</b>" in staff.texts()[-1]
    await staff.press("Continuer")
    await staff.say("hier")
    assert "pas compris" in staff.texts()[-1]
    await staff.press("Maintenant")
    preview, summary = staff.texts()[-2:]
    assert preview.startswith("<b>Bonjour Camille</b>, vote jusqu'au jeudi 8 décembre à 17h00")
    assert "/rappels" in preview  # the opt-out line
    assert "<b>2</b>" in summary
    await staff.press("Confirmer")
    assert "Diffusion n°1 lancée" in staff.texts()[-1]
    assert await services.store.get_draft(BROADCASTER) is None

    await worker(services, app).run_until_idle()
    got = received(api)
    assert got[1][0].startswith("<b>Bonjour V1</b>, vote jusqu'au jeudi 8 décembre à 17h00")
    assert 2 in got and 3 not in got
    report = staff.texts()[-1]
    assert "terminée" in report and "Remis : <b>2</b>" in report

    await staff.say("/diffusions")
    assert "n°1" in staff.texts()[-1]
    await staff.press("n°1")
    assert "Remis : 2" in staff.texts()[-1]


async def test_a_broadcaster_can_schedule_then_cancel(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    staff = Chat(app, api, user_id=ADMIN)
    await staff.say("/diffusion")
    await staff.say("Rappel")
    await staff.press("Continuer")
    await staff.say("20/11/2022 18:00")
    assert "dimanche 20 novembre 2022 à 18:00" in staff.texts()[-1]
    await staff.press("Confirmer")
    b = (await services.store.list_broadcasts())[0]
    assert b.state == "scheduled" and b.send_at.hour == 17  # UTC
    await staff.say("/diffusions")
    await staff.press("n°1")
    await staff.press("Annuler")
    assert (await services.store.get_broadcast(b.id)).state == "cancelled"


# -- delivery ----------------------------------------------------------------------------------


async def test_a_scheduled_broadcast_fires_after_a_restart(
    settings, election: Election, api: FakeBotAPI, app: Application, services: Services
) -> None:
    await add_voter(services, 1, first_name="Ana")
    at = ACTIVATION_NOW + timedelta(hours=1)
    bid = await services.store.create_broadcast("Bonjour {prenom}", Audience(), at, ACTIVATION_NOW)
    await worker(services, app).run_until_idle()
    assert received(api) == {}  # not yet due

    later = load_settings(
        None,
        TELEGRAM_BOT_TOKEN=settings.token,
        VOTEBOT_DB=str(settings.db_path),
        VOTEBOT_NOW=(at + timedelta(minutes=1)).isoformat(),
    )
    restarted = await Services.open(later, election)  # a new process on the same file
    try:
        await worker(restarted, app).run_until_idle()
        assert received(api)[1][0].startswith("Bonjour Ana\n\n")
        assert (await restarted.store.get_broadcast(bid)).state == "done"
    finally:
        await restarted.close()


async def test_a_429_pauses_every_send_then_resumes(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    for uid in range(1, 7):
        await add_voter(services, uid)
    clock = FakeClock(services.clock.fixed)
    sends = []

    def flood(method: str, params: dict[str, Any]):
        if method != "sendMessage":
            return None
        sends.append(clock.monotonic())
        if len(sends) == 3:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        return None

    api.fault = flood
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    w = worker(services, app, clock, rate=1000.0)
    slots = recorded_slots(w)
    await w.run_until_idle()
    assert sorted(received(api)) == [1, 2, 3, 4, 5, 6]
    assert all(len(t) == 1 for t in received(api).values())
    flood_at = sends[2]  # on the worker's clock, which only moves when the pacer waits
    # Sends let go before the 429 came back may land just after it; none starts in the pause.
    assert not [t for t, _ in slots if flood_at + 0.1 < t < flood_at + 1]
    assert max(t for t, chat in slots if chat == 3) >= flood_at + 1  # tried again after it
    counts = await services.store.broadcast_counts(bid)
    assert counts.sent == 6 and counts.open == 0


async def test_blocked_and_unknown_chats_are_marked_and_never_targeted_again(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    for uid in (1, 2, 3):
        await add_voter(services, uid)
    api.blocked = {2}

    def gone(method: str, params: dict[str, Any]):
        if method == "sendMessage" and int(params["chat_id"]) == 3:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        return None

    api.fault = gone
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    await worker(services, app).run_until_idle()
    counts = await services.store.broadcast_counts(bid)
    assert (counts.sent, counts.blocked, counts.failed) == (1, 2, 0)
    assert not (await services.store.get_user(2)).active
    assert not (await services.store.get_user(3)).active
    assert await services.store.count_audience(Audience()) == 1


async def test_server_errors_are_retried_with_backoff_then_given_up(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    await add_voter(services, 1)
    await add_voter(services, 2)
    failures = {1: 2, 2: 99}

    def flaky(method: str, params: dict[str, Any]):
        chat = int(params.get("chat_id", 0))
        if method == "sendMessage" and failures.get(chat, 0) > 0:
            failures[chat] -= 1
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    api.fault = flaky
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    await worker(services, app, max_attempts=3).run_until_idle()
    counts = await services.store.broadcast_counts(bid)
    assert (counts.sent, counts.failed) == (1, 1)
    assert list(received(api)) == [1]


async def test_a_graceful_stop_leaves_nothing_in_flight_and_a_restart_resumes(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    for uid in range(1, 21):
        await add_voter(services, uid)
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    first = worker(services, app, rate=40.0)
    first.start()
    while len(api.delivered) < 5:
        await asyncio.sleep(0.01)
    await first.stop()
    counts = await services.store.broadcast_counts(bid)
    assert counts.sending == 0 and 5 <= counts.sent < 20
    await worker(services, app).run_until_idle()
    assert sorted(received(api)) == list(range(1, 21))
    assert all(len(t) == 1 for t in received(api).values())


def test_composer_labels_are_short(services: Services) -> None:
    from bot.broadcast import audience_choices

    triggers = [(t, None) for t in ("aud_ok", "now", "ok", "test", "halt")]
    triggers += [("aud", k) for k in ("category", "departement", "not_done")]
    for kind in ("category", "departement", "not_done"):
        triggers.append((kind, "*"))
        triggers += [(kind, v) for v in audience_choices(services.election, kind)]
    for trigger, value in triggers:
        ctx = {"value": value, "count": 12345}
        label = services.renderer.label("broadcast/_buttons.html", trigger, ctx)
        assert label and len(label) <= 48, label


async def test_an_admin_reviews_and_switches_on_the_calendar_plan_in_telegram(
    app, api, services: Services
) -> None:
    admin = Chat(app, api, user_id=42)  # VOTEBOT_ADMINS in the test settings
    await admin.say("/calendrier")
    screen = admin.last
    assert "Rappels du calendrier" in screen["text"] and "opening" in screen["text"]
    await admin.press("opening — activer", message=screen)
    plan = {b.plan_key: b for b in await services.store.planned_reminders()}
    assert plan["opening"].state == "scheduled" and plan["eve"].state == "planned"
    assert "opening — désactiver" in str(admin.last["reply_markup"])
    await admin.press("opening — désactiver")
    plan = {b.plan_key: b for b in await services.store.planned_reminders()}
    assert plan["opening"].state == "planned"
    # Reminders whose time has passed (the portal opened before the test clock) get no button.
    assert "portal_opens —" not in str(admin.last["reply_markup"])


async def test_the_calendar_plan_is_refused_to_everyone_else(chat: Chat, services) -> None:
    await chat.say("/calendrier")
    assert "Je ne connais pas la commande /calendrier" in chat.texts()[-2]
    forged = chat.api.press_update(chat.user_id, chat.last, "pl:opening")
    await chat.feed(forged)
    plan = {b.plan_key: b for b in await services.store.planned_reminders()}
    assert all(b.state == "planned" for b in plan.values())


async def test_the_broadcaster_sees_one_progress_message_edited_every_few_seconds(
    app: Application, api: FakeBotAPI, services: Services
) -> None:
    for uid in range(1, 61):
        await add_voter(services, uid)
    await services.store.create_broadcast(
        "Rappel", Audience.parse("all"), ACTIVATION_NOW, ACTIVATION_NOW, report_chat=BROADCASTER
    )
    w = worker(services, app, FakeClock(services.clock.fixed), rate=40.0, progress_every=0.2)
    slots = recorded_slots(w)
    await w.run_until_idle()
    elapsed = w.clock.monotonic()  # the pacer's schedule, not the machine's speed
    assert set(received(api)) - {BROADCASTER} == set(range(1, 61))
    to_broadcaster = [
        c
        for c in api.calls
        if c.method in ("sendMessage", "editMessageText")
        and int(c.params["chat_id"]) == BROADCASTER
    ]
    assert to_broadcaster[0].method == "sendMessage"  # one message…
    edits = [c for c in to_broadcaster[1:] if c.method == "editMessageText"]
    assert len(to_broadcaster) == 1 + len(edits)  # …then only edits of it
    # At most one edit a second (Telegram's per-chat limit), never one per recipient.
    assert 1 <= len(edits) <= elapsed + 1 < 60
    # 40 messages a second, progress messages included: the edits do not slow sending.
    assert max(t for t, chat in slots if chat != BROADCASTER) <= len(slots) / 40
    assert "terminée" in edits[-1].params["text"]
