"""Realistic contexts of the support templates, for tests/test_templates.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.settings import PARIS
from store.progress import ITEMS
from store.support import HandoffCounts, StuckVoter, TranscriptLine

_AT = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)
_LONG = "Bonjour, je n'arrive pas à activer mon compte, le portail me dit que " * 3
_LINES = [
    TranscriptLine(1001, _AT, direction, _LONG if i % 2 else "<b>code ?</b>")
    for i, direction in enumerate(("in", "out", "staff", "in", "out", "in", "out", "staff"))
]
_SUMMARY: dict[str, Any] = {
    "user_id": 1234567890,
    "first_name": "Marie-Christine-Élisabeth",
    "category": "second_degre",
    "departement": "93",
    "flow": "webmel",
    "state": "note_identifier",
    "checklist": [(item, item == "identifier") for item in ITEMS],
    "done": ["identifier"],
    "lines": _LINES,
    "handoff": True,
    "known": True,
}
_FLOW = {"flow": "webmel", "started": 120, "completed": 80, "rate": 67}
_STUCK = [StuckVoter(1000 + i, "Camille", "webmel", "enter_numen", _AT, i) for i in range(0, 12)]

SUPPORT_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "support/topic_name.html": [_SUMMARY, {**_SUMMARY, "first_name": ""}],
    "support/chart.html": [{}],
    "support/card.html": [
        {**_SUMMARY, "opened_by": None, "lines": _LINES[:5]},
        {**_SUMMARY, "opened_by": 42, "lines": [], "category": None, "departement": None},
    ],
    "support/from_voter.html": [{"text": "<i>Bonjour</i>"}],
    "support/from_staff.html": [
        {"text": "Bonjour, essayez ceci.", "name": ""},
        {"text": "<b>x</b>", "name": "Dominique"},
    ],
    "support/staff_opened.html": [{}],
    "support/handed_back.html": [{}],
    "support/closed_staff.html": [{"by": by} for by in ("staff", "voter", "forget", "ban")],
    "support/no_handoff.html": [{}],
    "support/unavailable.html": [{}],
    "support/slow_down.html": [{}],
    "support/opened.html": [
        {"ok": ok, "reason": reason, "user_id": 1001}
        for ok, reason in ((True, None), (False, "no_chat"), (False, "banned"), (False, "x"))
    ],
    "support/stats.html": [
        {
            "voters": 1500,
            "flows": [
                {**_FLOW, "drop_step": "enter_numen", "drop_count": 25},
                {**_FLOW, "flow": "human", "drop_step": None, "drop_count": 0},
            ],
            "here": [("webmel", f"step_{i}", 100 - i) for i in range(20)],
            "handoffs": HandoffCounts(3, 40, ()),
            "median": "2 h 05 min",
        },
        {
            "voters": 0,
            "flows": [],
            "here": [],
            "handoffs": HandoffCounts(0, 0, ()),
            "median": "",
        },
    ],
    "support/stats_caption.html": [{}],
    "support/stuck.html": [
        {"voters": _STUCK[:6], "hours": 48, "missed_min": 3},
        {"voters": [], "hours": 48, "missed_min": 3},
    ],
    "support/voter.html": [
        _SUMMARY,
        {**_SUMMARY, "lines": [], "done": [], "handoff": False},
        {"known": False, "user_id": "abc"},
    ],
    "support/forget_confirm.html": [{}],
    "support/forgotten.html": [{"erased": True}, {"erased": False}],
    "support/roll_alert.html": [{"user_id": 1001, "refusals": 3}],
}
