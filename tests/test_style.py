"""The code base stays lint-clean (ruff, line length 99), type-checks (mypy) and keeps French out
of Python."""

import ast
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


def test_mypy_is_clean_on_bot_and_store() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "bot", "store"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _string_constants(tree: ast.AST) -> list[ast.Constant]:
    """String literals of a module, docstrings excluded."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docstrings.add(id(first.value))
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_french_sentence_in_python() -> None:
    """User-facing text lives in templates; matching data is marked `# data:` on its line."""
    accented = re.compile(r"[àâçéèêëîïôûùüÿœæ]", re.I)
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("store/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in _string_constants(ast.parse(source)):
            span = lines[node.lineno - 2 : (node.end_lineno or node.lineno)]
            if accented.search(node.value) and not any("# data:" in line for line in span):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert offenders == []


def test_tests_do_not_import_each_other() -> None:
    """Shared test helpers live in tests/fakes/ or conftest.py, never in another test module."""
    offenders = []
    for path in (ROOT / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                allowed = name in ("tests.conftest", "tests.fakes") or name.startswith(
                    "tests.fakes."
                )
                if name.startswith("tests") and not allowed:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
