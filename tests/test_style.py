"""The code base stays lint-clean (ruff, line length 99) and keeps French out of Python."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
    reason="ruff is not installed",
)
def test_ruff_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "bot", "store", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_french_sentence_in_python() -> None:
    accented = re.compile(r"[\"'][^\"'\n]*[àâçéèêëîïôûùüÿœ][^\"'\n]*[\"']", re.I)
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("store/**/*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("#") or '"""' in stripped:
                continue
            if accented.search(line) and "# data:" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []
