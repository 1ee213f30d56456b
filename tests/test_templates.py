"""Every template renders, in every phase, short enough for a phone, with escaped input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.election import load_election
from bot.flows import Reply, default_flows
from bot.flows.info import INTENT_STEPS
from bot.settings import PARIS
from bot.texts import Renderer, html_to_plain
from store import ElectionSetting
from tests.fakes.broadcast_contexts import BROADCAST_CONTEXTS
from tests.fakes.support_contexts import SUPPORT_CONTEXTS

TEMPLATES = Path(__file__).parents[1] / "bot" / "templates"
FLOWS = default_flows()
PHASE_MOMENTS = {
    "before_portal": datetime(2022, 9, 1, 9, 0, tzinfo=PARIS),
    "activation": datetime(2022, 11, 2, 9, 0, tzinfo=PARIS),
    "voting": datetime(2022, 12, 5, 9, 0, tzinfo=PARIS),
    "last_day": datetime(2022, 12, 8, 9, 0, tzinfo=PARIS),
    "closed": datetime(2022, 12, 9, 9, 0, tzinfo=PARIS),
}
# Templates that are not flow steps, each with the contexts they are rendered with.
OTHER_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "common/not_understood.html": [{}],
    "common/unsupported.html": [{"what": w} for w in ("media", "edited", "too_long")],
    "common/unknown_command.html": [{"command": "<b>x</b>"}],
    "common/expired.html": [{}],
    "common/help.html": [{}],
    "common/error.html": [{}],
    "common/flood.html": [{}],
    "common/private_only.html": [{}],
    "common/commands.html": [{}],
    "common/secret_removed.html": [{"deleted": True}, {"deleted": False}],
    "console/intro.html": [{}],
    "admin/role_list.html": [{"rows": [(1, "support")]}, {"rows": []}],
    "admin/role_changed.html": [
        {"action": a, "user_id": 1, "role": "support", "changed": c}
        for a in ("add", "remove")
        for c in (True, False)
    ],
    "admin/role_usage.html": [{"roles": ("broadcaster", "support")}],
    "admin/election.html": [
        {"rows": [("portal_url", "-"), ("vote_opens", "2026-12-03")], "check": []},
        {"rows": [], "check": [("portal_url", "missing"), ("electorate", "unverified")]},
    ],
    "admin/election_set.html": [
        {"key": "portal_url", "before": "-", "after": "https://x.fr/", "drafted": "published_x"},
        {"key": "portal_url", "before": "https://x.fr/", "after": "-", "drafted": None},
    ],
    "admin/election_refused.html": [{"key": "portal_url", "error": "expected https"}],
    "admin/election_usage.html": [{"keys": ["portal_url", "vote_closes"]}],
    "admin/election_history.html": [
        {"rows": []},
        {"rows": [ElectionSetting("portal_url", None, 42, PHASE_MOMENTS["voting"])]},
    ],
    **{
        f"reminders/published_{key}.html": [{}]
        for key in ("portal_url", "portal_opens", "notice_deadline", "vote_closes")
    },
    "info/english.html": [{"topic": intent} for intent in INTENT_STEPS] + [{"topic": None}],
    **SUPPORT_CONTEXTS,
    # support safety (bot/telegram/safety.py, bot/bans.py)
    "support/too_many.html": [{}],
    "support/voter_blocked.html": [{}],
    "support/unbanned.html": [
        {"ok": True, "user_id": 1001},
        {"ok": False, "user_id": 1001},
        {"ok": False, "user_id": 0},
    ],
}
OTHER_CONTEXTS.update(BROADCAST_CONTEXTS)
PARTIALS = {"base.html", "common/buttons.html"}
MAX_MESSAGE = 700
MAX_LABEL = 48


PROFILES = [
    {"first_name": "", "category": None, "departement": None, "reminders": None},
    {"first_name": "Anne-Sophie", "category": "aesh", "departement": "93", "reminders": True},
]
STEP_CONTEXTS = [
    {"data": {}, "profile": PROFILES[0], "progress": []},
    {
        "data": {"password_rules": ["length", "digit"]},
        "profile": PROFILES[1],
        "progress": ["identifier", "account", "vote_code", "voted"],
    },
]


def _step_replies() -> list[Reply]:
    replies = []
    for flow in FLOWS:
        for step in flow.steps:
            buttons = (*tuple((t,) for t in step.buttons), ("back", "menu"))
            for context in STEP_CONTEXTS:
                template = f"{flow.name}/{step.name}.html"
                replies.append(Reply(template, context, buttons, flow.name, step.name))
    return replies


def test_every_template_file_is_covered_by_this_test() -> None:
    files = {
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if not p.name.startswith("_")
    }
    covered = {r.template for r in _step_replies()} | set(OTHER_CONTEXTS) | PARTIALS
    assert files == covered


@pytest.mark.parametrize("moment", list(PHASE_MOMENTS.values()), ids=list(PHASE_MOMENTS))
def test_every_step_renders_with_labels_in_every_phase(moment: datetime) -> None:
    renderer = Renderer(load_election("creteil-2022"), lambda: moment)
    for reply in _step_replies():
        rendered = renderer.render(reply)
        assert rendered.text.strip(), reply.template
        assert len(html_to_plain(rendered.text)) <= MAX_MESSAGE, reply.template
        for row in rendered.buttons:
            for label, _ in row:
                assert label and len(label) <= MAX_LABEL, (reply.template, label)
    for template, contexts in OTHER_CONTEXTS.items():
        for ctx in contexts:
            assert len(renderer.text(template, ctx)) <= MAX_MESSAGE


UNPUBLISHED_MOMENTS = {
    "activation": datetime(2026, 11, 30, 10, 0, tzinfo=PARIS),
    "voting": datetime(2026, 12, 4, 10, 0, tzinfo=PARIS),
    "last_day": datetime(2026, 12, 10, 10, 0, tzinfo=PARIS),
    "closed": datetime(2026, 12, 11, 9, 0, tzinfo=PARIS),
}


@pytest.mark.parametrize(
    "moment", list(UNPUBLISHED_MOMENTS.values()), ids=list(UNPUBLISHED_MOMENTS)
)
def test_every_step_renders_while_2026_facts_are_not_published(moment: datetime) -> None:
    renderer = Renderer(load_election("creteil-2026"), lambda: moment)
    for reply in _step_replies():
        rendered = renderer.render(reply)
        assert rendered.text.strip(), reply.template
        assert "None" not in rendered.text, reply.template
    for template, contexts in OTHER_CONTEXTS.items():
        for ctx in contexts:
            assert "None" not in renderer.text(template, ctx), template


def test_user_input_is_escaped() -> None:
    renderer = Renderer(load_election("creteil-2022"), lambda: PHASE_MOMENTS["activation"])
    text = renderer.text("common/unknown_command.html", {"command": "<b>x</b>"})
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text


def test_urls_come_from_the_election_configuration() -> None:
    election = load_election("creteil-2022")
    renderer = Renderer(election, lambda: PHASE_MOMENTS["activation"])
    text = renderer.render(Reply("webmel/open_webmel.html")).text
    assert election.webmel_url.replace("&", "&amp;") in text


def test_terminal_text_shows_links_and_decodes_entities() -> None:
    assert html_to_plain('<b>A</b> &amp; <a href="https://x.fr/?a=1&amp;b=2">ici</a>') == (
        "A & ici (https://x.fr/?a=1&b=2)"
    )


def test_a_label_follows_its_context_and_a_plain_one_stays_the_same() -> None:
    """Plain labels are rendered once and kept; a checklist label still shows each voter's
    own ticks, press after press."""
    renderer = Renderer(load_election("creteil-2026"), lambda: PHASE_MOMENTS["activation"])

    def labels(rules: list[str]) -> dict[str, str]:
        reply = Reply(
            "lost_password/rules.html",
            {"data": {"password_rules": rules}, "profile": {}, "progress": []},
            (("length", "upper"), ("menu",)),
        )
        return {t: label for row in renderer.render(reply).buttons for label, t in row}

    assert labels([])["length"].startswith("⬜")
    assert labels(["length"])["length"].startswith("☑️")
    assert labels([])["length"].startswith("⬜")
    assert labels(["length"])["menu"] == labels([])["menu"] != ""


def test_a_warmed_renderer_compiles_nothing_on_a_voters_turn(monkeypatch) -> None:
    moment = PHASE_MOMENTS["activation"]
    renderer = Renderer(load_election("creteil-2026"), lambda: moment)
    assert renderer.warm() > 100  # every template, at start-up

    def compiling(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compiled during a turn")

    monkeypatch.setattr(renderer.env, "parse", compiling)
    monkeypatch.setattr(renderer.env, "compile", compiling)
    for reply in _step_replies():
        assert renderer.render(reply).text.strip()
