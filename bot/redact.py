"""Detect and remove secrets a voter pastes: NUMEN, passwords, vote codes."""

from __future__ import annotations

import re

PLACEHOLDER = "[secret removed]"

_SEP = r"[\s.\-]?"
# NUMEN: 2 digits, 1 letter, 2 digits, 5 digits, 3 letters (13 characters); spaces allowed.
_NUMEN = re.compile(
    r"(?<![A-Za-z0-9])"
    + _SEP.join([r"\d", r"\d", r"[A-Za-z]", r"\d", r"\d", *[r"\d"] * 5, *[r"[A-Za-z]"] * 3])
    + r"(?![A-Za-z0-9])"
)
_TOKEN = re.compile(r"\S+")
_EDGE = "\"'«»()[]{}<>.,;:!?"
_URL = re.compile(r"^(https?://|www\.)|^[\w.-]+\.(fr|com|org|net|gouv\.fr)(/|$)", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_WORDISH = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*$")  # words, names, Seine-Saint-Denis


def _looks_like_password(token: str) -> bool:
    token = token.strip(_EDGE)
    if len(token) < 8 or _URL.search(token) or _EMAIL.match(token) or _WORDISH.match(token):
        return False
    classes = (
        any(c.islower() for c in token),
        any(c.isupper() for c in token),
        any(c.isdigit() for c in token),
        any(not c.isalnum() for c in token),
    )
    return sum(classes) >= 3


def redact(text: str) -> tuple[str, bool]:
    """The text with every secret replaced by a placeholder, and whether any was found."""
    found = False

    def numen(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return PLACEHOLDER

    text = _NUMEN.sub(numen, text)

    def token(match: re.Match[str]) -> str:
        nonlocal found
        if _looks_like_password(match.group(0)):
            found = True
            return PLACEHOLDER
        return match.group(0)

    if found or any(len(t) >= 8 for t in text.split()):
        text = _TOKEN.sub(token, text)
    return text, found


def has_secret(text: str) -> bool:
    """Whether the text holds something that looks like a NUMEN, password or vote code."""
    return redact(text)[1]
