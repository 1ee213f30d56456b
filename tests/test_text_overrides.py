"""Operator texts: a folder of templates replaces built-in ones, checked at start-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.election import ConfigError, load_election
from bot.text_overrides import check_overrides
from tests.conftest import votebot_cli

PORTAL = """{% extends "base.html" %}
{% import "common/_macros.html" as m with context %}
{% block text %}
<b>Étape 2 — Créer votre espace électeur</b>
{{ m.portal_link() }}
Identifiez-vous avec deux moyens distincts, puis contactez le centre d'aide si besoin.
{% endblock %}
{% block btn_opened %}✅ C'est fait{% endblock %}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return folder


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOTEBOT_", "TELEGRAM_"))}
    env |= {"VOTEBOT_DB": str(tmp_path / "v.sqlite3"), "VOTEBOT_NOW": "2026-11-30T10:00"}
    return env | extra


def test_an_operator_text_replaces_the_builtin_one_without_code(tmp_path: Path) -> None:
    folder = write(tmp_path / "texts", "portal/open_portal.html", PORTAL)
    env = env_for(tmp_path, VOTEBOT_TEXTS_DIR=str(folder))
    out = votebot_cli(tmp_path, env, "chat", stdin="/menu\n2\n").stdout
    assert "deux moyens distincts" in out
    assert "n'est pas encore publié" in out  # the macros of the built-in templates still work


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("portal/open_portal.html", "{% block text %}{{ oops }}{% endblock %}", "undefined"),
        ("portal/open_portal.html", '{% extends "base.html" %}{% block text %}x', "block"),
        ("portal/open_portle.html", "x", "replaces no built-in template"),
        # A step's text without its button labels: the buttons would have none.
        (
            "portal/captcha.html",
            '{% extends "base.html" %}{% block text %}x{% endblock %}',
            "btn_",
        ),
    ],
)
def test_a_faulty_override_stops_the_start_naming_the_file(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    folder = write(tmp_path / "texts", name, text)
    with pytest.raises(ConfigError, match=problem):
        check_overrides(folder, load_election("creteil-2026"))
    proc = votebot_cli(
        tmp_path, env_for(tmp_path, VOTEBOT_TEXTS_DIR=str(folder)), "chat", check=False
    )
    assert proc.returncode == 2 and name in proc.stderr


def test_a_configuration_names_its_texts_folder(tmp_path: Path) -> None:
    write(tmp_path / "texts", "portal/open_portal.html", PORTAL)
    toml = tmp_path / "local.toml"
    toml.write_text('extends = "creteil-2026"\ntexts_dir = "texts"\n', encoding="utf-8")
    env = env_for(tmp_path, VOTEBOT_ELECTION=str(toml))
    out = votebot_cli(tmp_path, env, "chat", stdin="/menu\n2\n").stdout
    assert "deux moyens distincts" in out
