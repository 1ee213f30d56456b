"""Realistic contexts of the support templates, for tests/test_templates.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.settings import PARIS
from bot.stats import AgentStats
from store.helpdesk import QueueEntry
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
    "step_label": "🔑 2. Créer mon espace électeur › Le captcha : tapez les 4 chiffres affichés",
    "stuck_at": "🔑 2. Créer mon espace électeur › Le captcha ne s'affiche pas bien ?",
    "agent_name": "Dominique",
    "active": True,
    "last_seen": _AT,
}
_FLOW = {"flow": "webmel", "started": 120, "completed": 80, "rate": 67}
_QUEUE = [
    QueueEntry(7, 1001, "Camille", 55, None, _AT, _AT, True),
    QueueEntry(8, 1002, "", 56, "Dominique", None, _AT, False),
]
_STUCK = [StuckVoter(1000 + i, "Camille", "webmel", "enter_numen", _AT, i) for i in range(0, 12)]

SUPPORT_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "support/topic_name.html": [_SUMMARY, {**_SUMMARY, "first_name": ""}],
    "support/chart.html": [{}],
    "support/card.html": [
        {**_SUMMARY, "opened_by": None, "lines": _LINES[:5]},
        {**_SUMMARY, "opened_by": 42, "lines": [], "category": None, "departement": None},
        {
            **_SUMMARY,
            "opened_by": None,
            "agent_name": None,
            "active": False,
            "stuck_at": None,
            "lines": _LINES[:5],
        },
    ],
    "support/claim.html": [{}],
    "support/claimed.html": [{"agent": "Dominique"}],
    "support/claimed_voter.html": [{"agent": "Dominique"}],
    "support/taken.html": [{"agent": "Dominique"}],
    "support/unreachable.html": [{}],
    "support/noted.html": [{"empty": e} for e in (True, False)],
    "support/released.html": [{"released": r} for r in (True, False)],
    "support/canned_usage.html": [{"keys": ["captcha", "code", "mail"]}],
    "support/canned_sent.html": [{"key": "captcha"}],
    "support/queue.html": [
        {"rows": []},
        {
            "rows": [
                {"entry": _QUEUE[i % 2], "waits": "12 min" if i < 4 else "", "open_for": "1 h"}
                for i in range(8)
            ]
        },
    ],
    "support/staff_help.html": [{"alert_minutes": m} for m in (0, 15)],
    "support/commands.html": [{}],
    "support/alert.html": [
        {"first_name": "Camille", "user_id": 1001, "waits": "16 min", "agent": a}
        for a in (None, "Dominique")
    ],
    "support/satisfaction.html": [{}],
    "support/rated.html": [{"rated": r, "up": u} for r in (True, False) for u in (True, False)],
    "support/commented.html": [{}],
    "support/held.html": [{"texts": ["allo ?", "<b>vite</b>", _LONG]}],
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
        for ok, reason in (
            (True, None),
            (False, "no_chat"),
            (False, "banned"),
            (False, "unreachable"),
            (False, "x"),
        )
    ],
    "support/stats.html": [
        {
            "voters": 1500,
            "flows": [
                {**_FLOW, "drop_step": "enter_numen", "drop_count": 25},
                {**_FLOW, "flow": "human", "drop_step": None, "drop_count": 0},
            ],
            "here": [("webmel", f"step_{i}", 100 - i) for i in range(20)],
            "labels": {f"webmel.step_{i}": _SUMMARY["step_label"] for i in range(5)},
            "handoffs": HandoffCounts(3, 40, ()),
            "median": "2 h 05 min",
            "agents": [
                {
                    "agent": AgentStats(f"Agent{i}", 12, None, None, 9, 1),
                    "first": "4 min",
                    "resolution": "1 h 02 min",
                }
                for i in range(8)
            ],
        },
        {
            "voters": 0,
            "flows": [],
            "here": [],
            "handoffs": HandoffCounts(0, 0, ()),
            "median": "",
            "agents": [],
        },
    ],
    "support/stats_caption.html": [{}],
    "support/agents.html": [
        {"agents": []},
        {
            "agents": [
                {
                    "agent": AgentStats(f"Marie-Christine{i}", 12, None, None, 9, 1),
                    "first": "4 min",
                    "resolution": "1 h 02 min",
                }
                for i in range(12)
            ]
        },
    ],
    "support/stuck.html": [
        {
            "voters": _STUCK[:6],
            "labels": {v.user_id: _SUMMARY["step_label"] for v in _STUCK},
            "total": 12,
            "hours": 48,
            "missed_min": 3,
        },
        {"voters": [], "labels": {}, "total": 0, "hours": 48, "missed_min": 3},
    ],
    "support/voter.html": [
        _SUMMARY,
        {**_SUMMARY, "lines": [], "done": [], "handoff": False},
        {"known": False, "user_id": "abc"},
        {"known": False, "user_id": "Cam", "query": "Cam", "matches": [(1, "Camille"), (2, "")]},
    ],
    "support/forget_confirm.html": [{}],
    "support/forgotten.html": [{"erased": True}, {"erased": False}],
    "support/roll_alert.html": [{"user_id": 1001, "refusals": 3}],
}
