"""The README and .env.example stay true to the code."""

import re
from pathlib import Path

from bot.diagram import mermaid
from bot.flows import default_flows
from bot.settings import Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block
    return block.group(1).strip().splitlines()


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_second() -> None:
    start, tests = _quick_start()
    assert start.endswith("votebot") and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == tests


def test_readme_embeds_the_generated_webmel_diagram() -> None:
    assert mermaid(default_flows()["webmel"]).strip() in README


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields.values():
        assert f"\n{field.alias}=" in example
        assert f"`{field.alias}`" in README
