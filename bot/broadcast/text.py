"""Broadcast texts: Telegram HTML checks, and the variables filled in for each voter."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

from bot.election import Election
from bot.texts import Renderer

MAX_LENGTH = 4096  # characters of a Telegram message once entities are parsed
VARIABLES = ("prenom", "jours_restants", "date_cloture")
_VARIABLE = re.compile(r"\{(\w+)\}")
# Worst-case values for the length check: Telegram first names are at most 64 characters.
_LONGEST = {"prenom": "W" * 64, "jours_restants": "W" * 24, "date_cloture": "W" * 40}
# {jours_restants} already says "3 jours" (or "quelques heures" on the last day).
_UNIT_AFTER_DAYS = re.compile(r"\{jours_restants\}\s*jours?\b", re.IGNORECASE)
OPT_OUT_ROOM = 80  # characters kept for the opt-out line added to every broadcast
# Telegram's HTML subset: tag → allowed attributes.
_TAGS: dict[str, tuple[str, ...]] = {
    "b": (),
    "strong": (),
    "i": (),
    "em": (),
    "u": (),
    "ins": (),
    "s": (),
    "strike": (),
    "del": (),
    "a": ("href",),
    "code": ("class",),
    "pre": (),
    "span": ("class",),
    "tg-spoiler": (),
    "tg-emoji": ("emoji-id",),
    "blockquote": ("expandable",),
}
_ENTITIES = {"lt", "gt", "amp", "quot"}


@dataclass(frozen=True)
class Problem:
    """Why a broadcast text cannot be sent: a reason code (see broadcast/invalid.html)."""

    reason: str
    detail: str = ""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.plain: list[str] = []
        self.problem: Problem | None = None

    def _fail(self, reason: str, detail: str = "") -> None:
        if self.problem is None:
            self.problem = Problem(reason, detail)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self._fail("unknown_tag", tag)
            return
        names = {name for name, _ in attrs}
        if not names <= set(_TAGS[tag]):
            self._fail("bad_attribute", tag)
        if tag == "a" and not dict(attrs).get("href"):
            self._fail("bad_attribute", tag)
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self._fail("bad_attribute", tag)
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail("unknown_tag", tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail("unbalanced", tag)
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if any(c in data for c in "<>&"):
            self._fail("bare_symbol", next(c for c in data if c in "<>&"))
        self.plain.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _ENTITIES:
            self._fail("bad_entity", name)
        self.plain.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.plain.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self._fail("unknown_tag", "!--")

    def handle_decl(self, decl: str) -> None:
        self._fail("unknown_tag", "!")

    def handle_pi(self, data: str) -> None:
        self._fail("unknown_tag", "?")

    def unknown_decl(self, data: str) -> None:
        self._fail("unknown_tag", "!")


def check_html(text: str) -> tuple[Problem | None, int]:
    """Check Telegram HTML: known tags and attributes, balanced; returns (problem, length)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.problem is None and checker.stack:
        checker._fail("unclosed", checker.stack[-1])
    return checker.problem, len("".join(checker.plain))


def check_text(text: str) -> Problem | None:
    """Whether a broadcast text can be sent to every voter (variables filled at their longest)."""
    if not text.strip():
        return Problem("empty")
    for name in _VARIABLE.findall(text):
        if name not in VARIABLES:
            return Problem("unknown_variable", name)
    if _UNIT_AFTER_DAYS.search(text):
        return Problem("days_unit")
    problem, length = check_html(_VARIABLE.sub(lambda m: _LONGEST[m.group(1)], text))
    if problem is None and length > MAX_LENGTH - OPT_OUT_ROOM:
        return Problem("too_long", str(length))
    return problem


class Variables:
    """Fills `{prenom}`, `{jours_restants}`, `{date_cloture}` for one voter, adds the opt-out."""

    def __init__(self, renderer: Renderer, election: Election) -> None:
        self.renderer = renderer
        self.election = election

    def days_left(self, at: datetime) -> int:
        """Whole days from the day of `at` (Paris) to the closing day; 0 on the last day."""
        closing_day = self.election.calendar.closing_day
        return max(0, (closing_day - at.astimezone(self.election.tz).date()).days)

    def fill(self, text: str, first_name: str, at: datetime) -> str:
        """The text as this voter sees it when it is sent at `at`, opt-out line included."""
        days = self.days_left(at)
        values = {
            "prenom": html.escape(first_name),
            "jours_restants": self.renderer.text("broadcast/jours_restants.html", {"days": days}),
            "date_cloture": self.renderer.text("broadcast/date_cloture.html"),
        }
        filled = _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
        return filled + "\n\n" + self.renderer.text("broadcast/opt_out.html")
