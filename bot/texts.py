"""The one Jinja environment: every sentence and button label the bot shows lives in templates."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    nodes,
    select_autoescape,
)

from bot import textdeps
from bot.directory import Directory
from bot.election import Election
from bot.flows import Reply
from bot.localtime import paris
from bot.textdeps import Needs

_BLANK_LINES = re.compile(r"\n{3,}")
MAX_TEXTS = 4096  # rendered texts kept for reuse (all dropped when full)


@dataclass(frozen=True)
class Rendered:
    """A reply ready for a front end: HTML text and rows of (label, trigger) buttons."""

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


def build_environment(texts_dir: str | Path | None = None) -> Environment:
    """The Jinja environment: autoescaped HTML, undefined names are errors.

    With `texts_dir`, an operator's template of the same name replaces the built-in one.
    """
    builtin = PackageLoader("bot", "templates")
    loader: BaseLoader = builtin
    if texts_dir is not None:
        loader = ChoiceLoader([FileSystemLoader(str(texts_dir)), builtin])
    env = Environment(
        auto_reload=False,  # templates are read once: no stat of the file on every render
        loader=loader,
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["time_fr"] = _time_fr
    env.filters["datetime_fr"] = _datetime_fr
    return env


FR = Locale.parse("fr_FR")  # parsed once: Babel would look its data up on every call


# The formatting filters are cached: a reply shows the same few calendar dates again and again
# (the result depends only on the instant and the pattern; Babel takes ~50 µs a date).
@lru_cache(maxsize=1024)
def _date_fr(value: date | datetime, fmt: str = "EEEE d MMMM y") -> str:
    value = paris(value)
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, fmt, locale=FR)


@lru_cache(maxsize=1024)
def _time_fr(value: datetime) -> str:
    return format_time(paris(value), "H'h'mm", locale=FR)


DATETIME_FR = "EEEE d MMMM y 'à' HH:mm"  # data: a CLDR date pattern


@lru_cache(maxsize=1024)
def _datetime_fr(value: datetime, fmt: str = DATETIME_FR) -> str:
    # Babel would print an aware value in UTC: every time shown is Paris time.
    return format_datetime(paris(value), fmt, locale=FR)


def tidy(text: str) -> str:
    """Trim trailing spaces and runs of blank lines left by template logic."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines))


class Renderer:
    """Renders reply values with the election and the clock as globals."""

    def __init__(
        self,
        election: Election,
        clock: Callable[[], datetime],
        directory: Directory | None = None,
        texts_dir: str | Path | None = None,
    ) -> None:
        self.env = build_environment(texts_dir)
        self.election = election
        self.clock = clock
        # The contact directory snapshot (from the store; the configuration's by default).
        self.directory = directory or Directory.from_election(election)
        # Plan keys of the calendar reminders switched on: templates promise only these.
        self.reminders_on: frozenset[str] = frozenset()
        self._blocks: dict[tuple[str, str], tuple[Template, Callable[..., Any]]] = {}
        self._fixed: dict[tuple[str, str], str] = {}  # labels without a variable, rendered
        self._dynamic: set[tuple[str, str]] = set()  # labels that read the context
        self._templates: dict[str, Template] = {}
        self._plain_by_template: dict[str, frozenset[str]] = {}  # template → its plain blocks
        self._ambient_of: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        # Texts already rendered, by template and the values it reads (bot.textdeps); for
        # the ambient values they were rendered with (a new election or directory clears them).
        self._needs: dict[str, Needs | None] = {}
        # (A shallow copy given another election starts its own: it never fills this one's.)
        self._texts: tuple[dict[str, Any] | None, dict[tuple[Any, ...], str]] = (None, {})

    def warm(self) -> int:
        """Compile every template and sort the labels into plain and per-voter now, not for the
        first voters who meet them (serving calls it at start-up); how many templates."""
        names = self.env.list_templates(filter_func=lambda name: name.endswith(".html"))
        for name in names:
            self._templates[name] = tmpl = self.env.get_template(name)
            self._plain_blocks(tmpl)
            self._needs_of(name)
        return len(names)

    def _globals(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The template globals, and the ambient part of them (the same object until the
        election, the directory or the reminders switched on change)."""
        ambient = self._ambient()
        election = self.election
        now = self.clock().astimezone(election.tz)
        return {
            **ambient,
            "now": now,
            "phase": election.phase(now).value,
            "closing_today": now.date() == election.calendar.closing_day,
        }, ambient

    def _ambient(self) -> dict[str, Any]:
        """The calendar as templates read it, the directory and the reminders switched on,
        worked out once per value of each (a fact changed during the campaign gives a new
        one)."""
        election, directory, reminders_on = self.election, self.directory, self.reminders_on
        cached = self._ambient_of
        if cached is not None and all(
            a is b for a, b in zip(cached[0], (election, directory, reminders_on), strict=True)
        ):
            return cached[1]
        cal = election.calendar
        # A fact not published yet is None: templates say so (macros in common/_macros.html).
        values = {
            "election": election,
            "portal_opens": cal.at(cal.portal_opens),
            "notice_deadline": cal.at(cal.notice_deadline),
            "vote_opens": cal.at(cal.vote_opens),
            "vote_closes": cal.at(cal.vote_closes),
            "closing_day": cal.closing_day,
            "vote_opens_has_time": isinstance(cal.vote_opens, datetime),
            "directory": directory,
            "reminders_on": reminders_on,
        }
        self._ambient_of = ((election, directory, reminders_on), values)
        return values

    def text(self, template: str, context: Mapping[str, Any] | None = None) -> str:
        """Render a whole template to text."""
        ctx, ambient = self._globals()
        return self._text(template, {**ctx, **(context or {})}, ambient)

    def label(self, template: str, trigger: str, context: Mapping[str, Any] | None = None) -> str:
        """A label: block `btn_<trigger>` of the template, its folder's, the menu's or common."""
        return self._label(template, trigger, {**self._globals()[0], **(context or {})})

    def render(self, reply: Reply) -> Rendered:
        """Render a reply's text and button labels (the globals computed once for all)."""
        ctx, ambient = self._globals()
        ctx.update(reply.context or {})
        text = self._text(reply.template, ctx, ambient)
        rows = tuple(
            tuple((self._label(reply.template, t, ctx), t) for t in row) for row in reply.buttons
        )
        return Rendered(text, rows)

    def _text(self, template: str, ctx: dict[str, Any], ambient: dict[str, Any]) -> str:
        """A template's text, reused when it was rendered with the same values it reads."""
        texts_for, texts = self._texts
        if ambient is not texts_for:
            texts = {}
            self._texts = (ambient, texts)
        needs = self._needs_of(template)
        key = None if needs is None else textdeps.key(needs, ctx, ambient)
        if key is not None:
            key = (template, *key)
            text = texts.get(key)
            if text is not None:
                return text
        tmpl = self._templates.get(template)
        if tmpl is None:  # compiled once (Jinja's own cache takes a lock and an LRU update)
            tmpl = self._templates[template] = self.env.get_template(template)
        text = tidy(tmpl.render(ctx))
        if key is not None:
            if len(texts) >= MAX_TEXTS:
                texts.clear()
            texts[key] = text
        return text

    def _needs_of(self, template: str) -> Needs | None:
        """What a template's text depends on (its sources parsed once)."""
        try:
            return self._needs[template]
        except KeyError:
            found = self._needs[template] = textdeps.needs(self.env, template)
            return found

    def _label(self, template: str, trigger: str, ctx: dict[str, Any]) -> str:
        where = (template, trigger)
        fixed = self._fixed.get(where)
        if fixed is not None:
            return fixed
        tmpl, block = self._block(template, trigger)
        label = tidy("".join(block(tmpl.new_context(ctx))))
        if where not in self._dynamic:
            if f"btn_{trigger}" in self._plain_blocks(tmpl):
                self._fixed[where] = label  # the same for every voter and moment
            else:
                self._dynamic.add(where)
        return label

    def _plain_blocks(self, template: Template) -> frozenset[str]:
        """The plain blocks of a template (its source parsed once)."""
        key = template.name or ""
        found = self._plain_by_template.get(key)
        if found is None:
            found = self._plain_by_template[key] = _plain(self.env, template)
        return found

    def _block(self, template: str, trigger: str) -> tuple[Template, Callable[..., Any]]:
        """Where a label is written, looked up once (templates are read once, at start-up)."""
        found = self._blocks.get((template, trigger))
        if found is not None:
            return found
        folder = template.rpartition("/")[0]
        shared = ("menu/_buttons.html", "common/buttons.html")  # menu entries are reused
        for name in (template, f"{folder}/_buttons.html", *shared):
            try:
                tmpl = self.env.get_template(name)
            except TemplateNotFound:
                continue
            block = tmpl.blocks.get(f"btn_{trigger}")
            if block is not None:
                self._blocks[(template, trigger)] = tmpl, block
                return tmpl, block
        raise KeyError(f"no label btn_{trigger} for {template}")


_DYNAMIC = (nodes.Name, nodes.Call, nodes.Filter, nodes.Getattr, nodes.Getitem, nodes.Test)


def _plain(env: Environment, template: Template) -> frozenset[str]:
    """The blocks of a template that are plain text: no variable, call, filter or test."""
    if env.loader is None or template.name is None:
        return frozenset()
    source = env.loader.get_source(env, template.name)[0]
    return frozenset(
        node.name
        for node in env.parse(source).find_all(nodes.Block)
        if next(node.find_all(_DYNAMIC), None) is None
    )


_TAG = re.compile(r"<a\s+href=\"([^\"]*)\"[^>]*>(.*?)</a>|<[^>]+>", re.S)


def html_to_plain(text: str) -> str:
    """Telegram HTML as terminal text: links become `label (url)`, tags go, entities decode."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return ""
        url, label = html.unescape(match.group(1)), match.group(2)
        return label if html.unescape(label) == url else f"{label} ({url})"

    return html.unescape(_TAG.sub(repl, text))
