"""Settings: read once, validated, a bad value is one clear line and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_without_environment() -> None:
    s = load_settings(None)
    assert s.token is None
    assert s.telegram_api_base_url == "https://api.telegram.org"
    assert s.db_path == Path("votebot.sqlite3")
    assert s.election is None  # the built-in election whose vote has not closed
    assert s.admins == frozenset() and s.now is None


def test_values_are_parsed() -> None:
    s = load_settings(
        None,
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/",
        VOTEBOT_ADMINS="1, 22,333",
        VOTEBOT_NOW="2022-12-08T16:30",
    )
    assert s.token == "123:abc" and "abc" not in repr(s)
    assert s.telegram_api_base_url == "http://127.0.0.1:8081"
    assert s.admins == {1, 22, 333}
    assert s.now is not None and s.now.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VOTEBOT_ADMINS", "alice,bob"),
        ("VOTEBOT_NOW", "tomorrow"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        load_settings(None, **{name: value})


def test_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("VOTEBOT_ADMINS=5,6\nVOTEBOT_ELECTION=creteil-2022\n")
    assert load_settings(env).admins == {5, 6}


def test_cli_exits_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "VOTEBOT_ADMINS": "x", "TELEGRAM_BOT_TOKEN": "999:very-secret"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "VOTEBOT_ADMINS" in lines[0]
    assert "very-secret" not in proc.stderr + proc.stdout


def test_fresh_start_on_30_november_2026_speaks_of_the_2026_vote(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOTEBOT_", "TELEGRAM_"))}
    env["VOTEBOT_NOW"] = "2026-11-30T10:00"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        env=env,
        cwd=tmp_path,
        input="/menu\n2\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "du jeudi 3 décembre 2026 au jeudi 10 décembre 2026" in proc.stdout
    assert "2022" not in proc.stdout
    assert "Le lien du portail élections 2026 n'est pas encore publié" in proc.stdout


def test_the_example_env_file_starts_as_is(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    s = load_settings(env_file)
    assert s.election is None and s.now is None and s.texts_dir is None
