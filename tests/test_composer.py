"""Pure tests of the broadcast composer flow (/diffusion): steps, transitions, conditions."""

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.diagram import mermaid
from bot.flows import Context, composer
from bot.settings import PARIS

FLOW, MACHINE = composer.FLOW, composer.MACHINE
NOW = datetime(2026, 12, 1, 9, tzinfo=PARIS)
DRAFT = {"text": "Bonjour {prenom}", "audience": "category=aesh", "at": None}
README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def fire(state: str, trigger: str, **facts: Any) -> str | None:
    return MACHINE.fire(state, trigger, Context(now=NOW, phase="voting", data=facts))


def test_every_transition_lands_on_a_real_step_and_every_button_fires() -> None:
    names = {s.name for s in FLOW.steps}
    assert FLOW.initial == composer.IDLE and set(composer.DRAFTS) < names
    for t in FLOW.transitions:
        assert t.source in names and t.dest in names, t
    for step in FLOW.steps:
        for trigger in step.buttons:
            assert any(t.trigger == trigger and t.source == step.name for t in FLOW.transitions)


def test_ok_on_the_preview_of_the_current_draft_sends_it() -> None:
    token = composer.draft_token(DRAFT)
    assert fire("preview", "ok", draft=DRAFT, pressed=token, when_ok=True) == composer.SENT
    assert fire("preview", "test", draft=DRAFT, pressed=token) == "preview"


def test_ok_on_an_older_preview_goes_nowhere() -> None:
    stale = composer.draft_token(DRAFT)
    for change in ({"text": "Autre texte"}, {"audience": "all"}, {"at": "2026-12-02T18:00"}):
        newer = {**DRAFT, **change}
        assert composer.draft_token(newer) != stale
        assert fire("preview", "ok", draft=newer, pressed=stale, when_ok=True) is None
        assert fire("preview", "test", draft=newer, pressed=stale) is None
    for pressed in ("", None, "*"):
        assert fire("preview", "ok", draft=DRAFT, pressed=pressed, when_ok=True) is None


def test_ok_is_only_a_preview_button() -> None:
    token = composer.draft_token(DRAFT)
    for state in (composer.IDLE, *composer.DRAFTS[:-1], composer.SENT):
        assert fire(state, "ok", draft=DRAFT, pressed=token, when_ok=True) is None


def test_ok_after_the_send_time_passed_goes_back_to_when() -> None:
    token = composer.draft_token(DRAFT)
    assert fire("preview", "ok", draft=DRAFT, pressed=token, when_ok=False) == "when"
    assert fire("preview", "ok", draft=DRAFT, pressed=token) == "when"  # fact missing: refused


def test_no_path_reaches_sent_without_passing_the_preview() -> None:
    into_sent = [t for t in FLOW.transitions if t.dest == composer.SENT]
    assert into_sent and all(t.source == "preview" for t in into_sent)
    assert all(composer.token_matches in t.conditions for t in into_sent)
    reached, todo = {FLOW.initial}, [FLOW.initial]
    while todo:  # every state reachable when the preview is taken away
        state = todo.pop()
        for t in FLOW.transitions:
            if t.source == state and t.dest != "preview" and t.dest not in reached:
                reached.add(t.dest)
                todo.append(t.dest)
    assert composer.SENT not in reached and "preview" not in reached
    assert not any(t.source == composer.SENT for t in FLOW.transitions)


def test_typed_text_and_time_move_on_only_when_their_checks_passed() -> None:
    assert fire("text", "typed", text_ok=True) == "audience"
    assert fire("text", "typed", text_ok=False) == "text"
    assert fire("text", "typed") == "text"
    assert fire("when", "typed", when_ok=True) == "preview"
    assert fire("when", "typed", when_ok=False) == "when"
    assert fire("when", "typed") == "when"
    for state in ("audience", "preview", composer.IDLE):
        assert fire(state, "typed", text_ok=True, when_ok=True) is None


def test_an_audience_criterion_must_be_one_of_its_choices() -> None:
    choices = ("aesh", "aed")
    assert fire("audience", "criterion", pressed="aesh", choices=choices) == "audience"
    assert fire("audience", "criterion", pressed=composer.ANY, choices=()) == "audience"
    assert fire("audience", "criterion", pressed="proviseur", choices=choices) is None
    assert fire("audience", "aud", choices=choices) == "audience"
    assert fire("audience", "aud", choices=()) is None
    assert fire("when", "criterion", pressed="aesh", choices=choices) is None
    assert fire("audience", "aud_ok") == "when"
    assert fire("when", "now") == "preview"


def test_compose_restarts_and_stop_drops_from_anywhere() -> None:
    for state in (composer.IDLE, *composer.DRAFTS):
        assert fire(state, composer.COMPOSE) == "text"
        assert fire(state, "stop") == composer.IDLE
    assert composer.state_of("") == composer.IDLE == composer.state_of("gone")
    assert composer.state_of("when") == "when"
    assert len(MACHINE.machine.models) == 1  # one shared machine, no model per draft


def test_readme_embeds_the_generated_composer_diagram(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "composer", "--conditions"]) == 0
    printed = capsys.readouterr().out
    assert printed.strip() == mermaid(FLOW, conditions=True).strip()
    assert "preview --> sent: ok [token_matches & when_ok]" in printed
    assert printed.strip() in README
