"""The terminal chat: same engine and store, numbered buttons, scriptable from a pipe."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.console import run_console
from bot.services import Services


async def test_walks_the_webmel_flow_with_numbers(services: Services) -> None:
    out = io.StringIO()
    script = "6\n2\n1\n2\n1\n1\n1\n"  # passer → pas de rappels → webmel → Non → lien → …
    await run_console(services, io.StringIO(script), out)
    text = out.getvalue()
    assert "1. 📧 1. Mon adresse académique" in text
    assert "Connaître son identifiant" in text
    assert "https://webmel.ac-creteil.fr/iwc_static/layout/login.html?lang=fr&3.0.1.3.0" in text
    assert "Étape 1 terminée" in text and "<b>" not in text and "&amp;" not in text


async def test_a_second_session_resumes_where_the_first_stopped(services: Services) -> None:
    await run_console(services, io.StringIO("6\n2\n1\n2\n"), io.StringIO())
    out = io.StringIO()
    await run_console(services, io.StringIO(""), out)
    assert "Connaître son identifiant" in out.getvalue()
    assert "Bonjour" not in out.getvalue()


def test_votebot_without_token_chats_in_the_terminal_from_a_pipe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["VOTEBOT_DB"] = str(tmp_path / "chat.sqlite3")
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="6\n2\n1\n2\n/aide\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Connaître son identifiant" in proc.stdout and "Aide" in proc.stdout
    assert (tmp_path / "chat.sqlite3").exists()


async def test_the_terminal_turn_keeps_the_same_transcript_as_telegram(
    services: Services,
) -> None:
    await run_console(services, io.StringIO("je trouve pas mon NUMEN\n"), io.StringIO())
    lines = await services.store.transcript(0, 20)  # type: ignore[attr-defined]
    said = [line.text for line in lines if line.direction == "in"]
    assert said == ["je trouve pas mon NUMEN"]
    assert any(line.direction == "out" and "NUMEN" in line.text for line in lines)
