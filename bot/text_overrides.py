"""Operator templates (`VOTEBOT_TEXTS_DIR` or the configuration's `texts_dir`), checked at
start-up like the built-in ones: each replaces a known template and renders in every phase."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from jinja2 import TemplateError

from bot.election import ConfigError, Election
from bot.flows import Reply, default_flows
from bot.texts import Renderer, build_environment

BUILTIN = Path(__file__).parent / "templates"
SAMPLE = {"data": {}, "profile": {"first_name": "Camille"}, "progress": []}


def phase_moments(election: Election) -> list[datetime]:
    """One moment in each phase of the election (and on the last voting day)."""
    cal, tz = election.calendar, election.tz
    opens = cal.at(cal.vote_opens)
    moments = [opens - timedelta(days=1), opens + timedelta(hours=1)]
    moments.append(datetime.combine(cal.closing_day, time(10, 0), tzinfo=tz))
    moments.append(cal.closes_at() + timedelta(days=1))
    portal = cal.at(cal.portal_opens)
    if portal is not None:
        moments.insert(0, portal - timedelta(days=1))
    return moments


def check_overrides(folder: str | Path, election: Election) -> list[str]:
    """The templates overridden; raises ConfigError naming the first faulty one."""
    root = Path(folder)
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*.html"))
    steps = {f"{f.name}/{s.name}.html": s for f in default_flows() for s in f.steps}
    env = build_environment(root)
    for name in names:
        if not (BUILTIN / name).is_file():
            raise ConfigError(f"texts {root}: {name} replaces no built-in template")
        try:
            env.get_template(name)
        except TemplateError as exc:
            raise ConfigError(f"texts {root}: {name}: {exc}") from None
    for moment in phase_moments(election):
        renderer = Renderer(election, lambda m=moment: m, texts_dir=root)  # type: ignore[misc]
        for name in names:
            step = steps.get(name)
            folder_buttons = name.endswith("/_buttons.html")
            try:
                if step is not None:
                    reply = Reply(name, SAMPLE, tuple((t,) for t in step.buttons), "", "")
                    renderer.render(reply)
                elif folder_buttons:
                    flow = name.split("/")[0]
                    for s in (s for f in default_flows() if f.name == flow for s in f.steps):
                        renderer.render(
                            Reply(f"{flow}/{s.name}.html", SAMPLE, tuple((t,) for t in s.buttons))
                        )
                else:
                    _render_like_builtin(renderer, name)
            except (TemplateError, KeyError) as exc:
                when = moment.isoformat(timespec="minutes")
                raise ConfigError(f"texts {root}: {name} at {when}: {exc}") from None
    return names


def _render_like_builtin(renderer: Renderer, name: str) -> None:
    """Render an override with the sample context wherever the built-in one renders with it."""
    builtin = Renderer(renderer.election, renderer.clock)
    try:
        builtin.text(name, SAMPLE)
    except (TemplateError, KeyError):
        return  # needs a context of its own: its syntax was checked
    renderer.text(name, SAMPLE)
