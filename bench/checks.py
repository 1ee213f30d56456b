"""After a run: compare what voters saw with what the bot committed in its database."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import Voters
from bot import callbacks


@dataclass
class Audit:
    """Per-update and per-voter consistency between the fake Telegram and the store."""

    never_recorded: int  # updates pushed that the bot never committed
    unconfirmed: int  # committed, replies never recorded as delivered
    duplicates: int  # answers beyond one per update
    off_step: int  # voters whose last shown step is not their committed step

    def lines(self) -> list[str]:
        return [
            f"updates never handled: {self.never_recorded}",
            f"updates handled but replies not recorded as sent: {self.unconfirmed}",
            f"answers beyond one per update: {self.duplicates}",
            f"voters whose last message is not their committed step: {self.off_step}",
        ]


def unconfirmed_now(db: Path) -> int:
    """Updates committed whose replies are not recorded as sent (read right after a kill)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM processed_updates WHERE replied_at IS NULL"
        ).fetchone()[0]


def audit(db: Path, api: AsyncFakeBotAPI, voters: Voters) -> Audit:
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT update_id, replied_at FROM processed_updates"))
        states = {
            uid: (flow, state)
            for uid, flow, state in conn.execute("SELECT user_id, flow, state FROM conversations")
        }
    return audit_rows(rows, states, api, voters)


def audit_rows(
    rows: dict[int, Any], states: dict[int, tuple[str, str]], api: AsyncFakeBotAPI, voters: Voters
) -> Audit:
    """The audit from the rows read: update id → replied_at, voter → (flow, state)."""
    never = sum(1 for uid in api.pushed_ids if uid not in rows)
    unconfirmed = sum(1 for uid in api.pushed_ids if uid in rows and rows[uid] is None)
    duplicates = sum(api.stats.answers[v] for v in voters.sent) - sum(voters.sent.values())
    off = 0
    for voter in voters.sent:
        message = api.last_keyboard.get(voter)
        shown = None
        for row in (message or {}).get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                press = callbacks.decode(button.get("callback_data", ""))
                if press is not None:
                    shown = (press.flow, press.state)
        if shown != states.get(voter):
            off += 1
    return Audit(never, unconfirmed, duplicates, off)
