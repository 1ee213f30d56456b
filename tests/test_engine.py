"""The engine: flows walked, state committed before replies, restarts and duplicates handled."""

from __future__ import annotations

from bot.engine import Engine, Incoming
from bot.flows import Reply
from bot.services import Services
from store import open_store


async def _press(services: Services, reply: Reply, trigger: str, update_id: int | None = None):
    data = services.engine.callback_data(reply, trigger)
    return await services.engine.handle(Incoming(1, "button", data, "Camille", update_id))


async def test_walks_the_webmel_flow_and_records_each_step(services: Services) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu", "Camille"))
    assert out.replies[-1].template == "menu/main.html"
    out = await _press(services, out.replies[-1], "webmel")
    assert out.replies[-1].template == "webmel/has_address.html"
    for trigger, template in [
        ("no", "webmel/open_webmel.html"),
        ("found_link", "webmel/enter_numen.html"),
        ("no_numen", "webmel/numen_where.html"),
        ("have_numen", "webmel/enter_numen.html"),
        ("got_identifier", "webmel/note_identifier.html"),
        ("noted", "webmel/done.html"),
    ]:
        out = await _press(services, out.replies[-1], trigger)
        assert out.replies[-1].template == template
    events = await services.store.transition_events(1)
    assert [e.dest for e in events][-2:] == ["note_identifier", "done"]


async def test_back_returns_to_the_previous_step_across_flows(services: Services) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    out = await _press(services, out.replies[-1], "webmel")
    out = await _press(services, out.replies[-1], "no")
    assert ("back", "menu") in out.replies[-1].buttons
    out = await _press(services, out.replies[-1], "back")
    assert out.replies[-1].template == "webmel/has_address.html"
    out = await _press(services, out.replies[-1], "back")
    assert out.replies[-1].template == "menu/main.html"


async def test_a_restarted_engine_resumes_at_the_committed_step(services, election) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    out = await _press(services, out.replies[-1], "webmel")
    stale = out.replies[-1]
    out = await _press(services, stale, "no")
    path = services.settings.db_path
    store = await open_store(path)  # a second process opening the same file
    engine = Engine(store, services.election, services.engine.flows, services.clock)
    data = engine.callback_data(out.replies[-1], "found_link")
    again = await engine.handle(Incoming(1, "button", data))
    assert again.replies[-1].template == "webmel/enter_numen.html"
    await store.close()


async def test_stale_or_forged_buttons_answer_expired_and_show_where_you_are(services) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    welcome = out.replies[-1]
    out = await _press(services, welcome, "webmel")
    for data in [
        services.engine.callback_data(welcome, "webmel"),  # an older message's button
        "zzzz|webmel|has_address|no",  # another deployment
        "nonsense",
        "0000|webmel|has_address|drop_table",
    ]:
        again = await services.engine.handle(Incoming(1, "button", data))
        assert [r.template for r in again.replies] == [
            "common/expired.html",
            "webmel/has_address.html",
        ]


async def test_a_repeated_update_is_answered_once(services: Services) -> None:
    first = await services.engine.handle(Incoming(1, "command", "start", update_id=77))
    await services.engine.replied(77)
    second = await services.engine.handle(Incoming(1, "command", "start", update_id=77))
    assert first.replies and second.duplicate and not second.replies


async def test_replies_committed_but_never_sent_are_sent_on_redelivery(services) -> None:
    first = await services.engine.handle(Incoming(1, "command", "start", update_id=78))
    # the process dies here, before `replied`: Telegram delivers update 78 again
    again = await services.engine.handle(Incoming(1, "command", "start", update_id=78))
    assert not again.duplicate and again.replies == first.replies
    assert len(await services.store.transition_events(1)) == 1


async def test_help_unknown_text_and_commands_keep_the_voter_in_place(services) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    out = await _press(services, out.replies[-1], "webmel")
    for msg, first in [
        (Incoming(1, "command", "aide"), "common/help.html"),
        (Incoming(1, "command", "frobnicate"), "common/unknown_command.html"),
        (Incoming(1, "unsupported", "media"), "common/unsupported.html"),
    ]:
        out = await services.engine.handle(msg)
        assert [r.template for r in out.replies] == [first, "webmel/has_address.html"]


async def test_menu_from_any_step_clears_the_way_back(services: Services) -> None:
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    out = await _press(services, out.replies[-1], "webmel")
    out = await services.engine.handle(Incoming(1, "command", "menu"))
    assert out.replies[-1].template == "menu/main.html"
    assert "back" not in [t for row in out.replies[-1].buttons for t in row]
