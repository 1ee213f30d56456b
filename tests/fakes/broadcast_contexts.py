"""Realistic contexts of the broadcast and calendar templates, for tests/test_templates.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.settings import PARIS
from store import Audience, Broadcast, BroadcastCounts

_VOTING = datetime(2022, 12, 5, 9, 0, tzinfo=PARIS)
_AESH_93 = Audience(category="aesh", departement="93", not_done="voted")
_BROADCAST = Broadcast(
    id=12,
    text="<b>Bonjour {prenom}</b> &amp; bienvenue " * 20,
    audience=_AESH_93,
    send_at=datetime(2022, 12, 1, 9, 0, tzinfo=PARIS),
    state="sending",
    plan_key="opening",
    created_by=None,
    created_at=datetime(2022, 11, 1, 9, 0, tzinfo=PARIS),
    started_at=datetime(2022, 12, 1, 9, 0, tzinfo=PARIS),
    finished_at=None,
    report_chat=None,
    report_message=None,
)
_MANUAL = replace(_BROADCAST, id=13, plan_key=None, created_by=7007, audience=Audience())
_COUNTS = [
    BroadcastCounts(),
    BroadcastCounts(pending=40, sending=2, sent=950, blocked=7, failed=1),
]
_AUDIENCES = [Audience(), _AESH_93, Audience(departement="94"), Audience(not_done="account")]
BROADCAST_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "broadcast/date_cloture.html": [{}],
    "broadcast/jours_restants.html": [{"days": d} for d in (0, 1, 5)],
    "broadcast/opt_out.html": [{}],
    "broadcast/ask_text.html": [{}],
    "broadcast/invalid.html": [
        {"reason": r, "detail": d}
        for r, d in (
            ("empty", ""),
            ("unknown_variable", "nom"),
            ("unknown_tag", "div"),
            ("bad_attribute", "a"),
            ("unbalanced", "b"),
            ("unclosed", "i"),
            ("bare_symbol", "<"),
            ("bare_symbol", "&"),
            ("bad_entity", "nbsp"),
            ("days_unit", ""),
            ("too_long", "5000"),
        )
    ],
    "broadcast/ask_audience.html": [{"audience": a, "count": 12} for a in _AUDIENCES],
    "broadcast/ask_choice.html": [{"kind": k} for k in ("category", "departement", "not_done")],
    "broadcast/ask_when.html": [{"example": "02/11/2022 18:00"}],
    "broadcast/bad_when.html": [
        {"reason": r, "example": "02/11/2022 18:00"} for r in ("past", "after_close", "unreadable")
    ],
    "broadcast/use_buttons.html": [{}],
    "broadcast/preview.html": [
        {"count": 1234, "audience": _AESH_93, "at": None},
        {"count": 0, "audience": Audience(), "at": _VOTING},
    ],
    "broadcast/preview_expired.html": [{"has_draft": d} for d in (True, False)],
    "broadcast/button_expired.html": [{"has_draft": d} for d in (True, False)],
    "broadcast/test_sent.html": [{}],
    "broadcast/not_yours.html": [{}],
    "broadcast/confirmed.html": [
        {"id": 3, "at": None, "text": _BROADCAST.text, "audience": _AESH_93, "count": 41},
        {"id": 4, "at": _VOTING, "text": "Votez", "audience": Audience(), "count": 0},
    ],
    "broadcast/stopped.html": [{}],
    "broadcast/list.html": [
        {"rows": [], "authors": {}, "page": 1, "pages": 1, "total": 0},
        {
            "rows": [_BROADCAST, _MANUAL, _BROADCAST, _MANUAL, _BROADCAST],
            "authors": {12: "", 13: "Camille"},
            "page": 2,
            "pages": 3,
            "total": 20,
        },
    ],
    "reminders/calendar.html": [
        {"plan": [], "now": _BROADCAST.send_at},
        {"plan": [replace(_BROADCAST, audience=Audience(not_done="voted"))] * 6, "now": _VOTING},
    ],
    "broadcast/show.html": [
        {"b": b, "counts": c, "author": a, "optouts": 2, "voted": 31}
        for c in _COUNTS
        for b, a in ((_BROADCAST, ""), (_MANUAL, "Camille"))
    ],
    "broadcast/progress.html": [
        {"id": 12, "b": _BROADCAST, "counts": c, "final": False, "stopped": False, "seconds": 5}
        for c in _COUNTS
    ],
    "broadcast/report.html": [
        {"id": 12, "b": _BROADCAST, "counts": c, "final": True, "stopped": s, "seconds": 401}
        for c in _COUNTS
        for s in (True, False)
    ],
    **{
        f"reminders/plan_{key}.html": [{}]
        for key in (
            "portal_opens",
            "notice_week",
            "eve",
            "opening",
            "last_morning",
            "last_afternoon",
        )
    },
}
