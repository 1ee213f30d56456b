"""Rendered texts are reused only for the same inputs: each voter still sees their own name,
the clock and the published facts still change what is shown."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, Template

from bot import textdeps
from bot.election import load_election
from bot.flows import Reply
from bot.settings import PARIS
from bot.texts import Renderer, build_environment

ACTIVATION = datetime(2026, 11, 20, 9, 0, tzinfo=PARIS)
VOTING = datetime(2026, 12, 4, 9, 0, tzinfo=PARIS)
LAST_DAY = datetime(2026, 12, 10, 9, 0, tzinfo=PARIS)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def step(template: str, first_name: str = "Camille", **data: Any) -> Reply:
    """A step's reply as the engine builds it."""
    context = {"data": data, "profile": {"first_name": first_name}, "progress": []}
    return Reply(template, context, (("menu",),), *template.removesuffix(".html").split("/"))


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja actually renders."""
    seen: list[str] = []
    original = Template.render

    def counted(self: Template, *args: Any, **kwargs: Any) -> str:
        seen.append(self.name or "")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Template, "render", counted)
    return seen


def test_a_text_that_reads_nothing_of_the_voter_is_rendered_once(renders: list[str]) -> None:
    renderer = Renderer(load_election("creteil-2026"), Clock(ACTIVATION))
    first = renderer.render(step("notice/where.html", "Camille")).text
    second = renderer.render(step("notice/where.html", "Sami")).text
    assert first == second and "notice" in first
    assert renders == ["notice/where.html"]


def test_each_voter_still_sees_their_own_name(renders: list[str]) -> None:
    renderer = Renderer(load_election("creteil-2026"), Clock(ACTIVATION))
    texts = [
        renderer.render(step("profile/welcome.html", name)).text
        for name in ("Camille", "Sami", "Camille")
    ]
    assert "Camille" in texts[0] and "Sami" not in texts[0]
    assert "Sami" in texts[1] and "Camille" not in texts[1]
    assert texts[2] == texts[0]
    assert renders == ["profile/welcome.html"] * 2  # Camille's text reused the second time


def test_the_last_day_banner_follows_the_clock() -> None:
    clock = Clock(VOTING)
    renderer = Renderer(load_election("creteil-2026"), clock)
    assert "Dernier jour" not in renderer.render(step("menu/main.html")).text
    clock.now = LAST_DAY
    assert "Dernier jour" in renderer.render(step("menu/main.html")).text
    clock.now = VOTING
    assert "Dernier jour" not in renderer.render(step("menu/main.html")).text


def test_a_published_fact_shows_at_once() -> None:
    election = load_election("creteil-2026")
    renderer = Renderer(election, Clock(ACTIVATION))
    url = "https://elections.test/portail"
    assert url not in renderer.render(step("portal/open_portal.html")).text
    renderer.election = election.model_copy(update={"portal_url": url})
    assert url in renderer.render(step("portal/open_portal.html")).text


def test_a_text_that_reads_the_instant_is_rendered_each_time(renders: list[str]) -> None:
    assert textdeps.needs(build_environment(), "reminders/ask.html") is None
    renderer = Renderer(load_election("creteil-2026"), Clock(ACTIVATION))
    for _ in range(2):
        renderer.text("reminders/ask.html", {"profile": {"reminders": None}})
    assert renders == ["reminders/ask.html"] * 2


def _needs(**sources: str) -> textdeps.Needs | None:
    env = Environment(loader=DictLoader({f"{k}.html": v for k, v in sources.items()}))
    return textdeps.needs(env, "t.html")


def test_needs_lists_the_keys_read_or_the_whole_value() -> None:
    needs = _needs(t="{{ data.a }}{{ data['b'] }}{{ profile.first_name }}{{ m(progress) }}")
    assert needs is not None
    assert needs.whole == {"m", "progress"}
    assert dict(needs.keyed) == {"data": {"a", "b"}, "profile": {"first_name"}}
    # Read whole anywhere (a method, a loop, a macro argument): the whole value counts.
    needs = _needs(t="{{ data.a }}{% for k in data.items() %}{% endfor %}")
    assert needs is not None and needs.whole == {"data"} and needs.keyed == ()


def test_needs_follow_the_templates_a_template_uses() -> None:
    needs = _needs(
        t='{% extends "base.html" %}{% block b %}{{ data.a }}{% endblock %}',
        base='{% import "m.html" as m with context %}{% block b %}{% endblock %}{{ phase }}',
        m="{% macro x() %}{{ profile.first_name }}{% endmacro %}",
    )
    assert needs is not None and "phase" in needs.whole
    assert dict(needs.keyed)["profile"] == {"first_name"}
    assert _needs(t='{% extends "base.html" %}', base="{{ now }}") is None
    assert _needs(t="{% include name %}") is None  # a template known only when rendering


def test_keys_tell_apart_what_renders_differently() -> None:
    needs = textdeps.Needs(frozenset({"v"}), ())
    keys = {textdeps.key(needs, {"v": v}, {}) for v in (1, True, 1.0, "1", [1], (1,), None)}
    assert len(keys) == 7
    assert textdeps.key(needs, {"v": object()}, {}) is None  # not plain data: not reused
    ambient = {"v": object()}
    assert textdeps.key(needs, ambient, ambient) == ()  # the renderer's own value: left out


def test_a_copy_given_another_election_keeps_its_texts_apart() -> None:
    """Comparing old and new wording (calendar reminders follow published facts) renders
    with a copy of the renderer given the old election: neither sees the other's texts."""
    election = load_election("creteil-2026")
    published = election.model_copy(update={"portal_url": "https://elections.test/portail"})
    renderer = Renderer(published, Clock(ACTIVATION))
    new = renderer.render(step("portal/open_portal.html")).text
    before = copy.copy(renderer)
    before.election = election
    old = before.render(step("portal/open_portal.html")).text
    assert "https://elections.test/portail" in new and "https://elections.test/portail" not in old
    assert renderer.render(step("portal/open_portal.html")).text == new
