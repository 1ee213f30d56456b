"""Labelled examples collected from voters' clarify choices (intent feedback)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.times import from_db, to_db


@dataclass(frozen=True)
class IntentFeedback:
    """One voter's message and the topic they chose for it."""

    intent: str
    text: str
    created_at: datetime


class FeedbackQueries:
    """Reads and writes of the intent_feedback table."""

    db: Database

    async def add_intent_feedback(self, intent: str, text: str, now: datetime) -> None:
        """Record a message (already redacted) labelled with the intent the voter chose."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO intent_feedback (intent, text, created_at) VALUES (?, ?, ?)",
                (intent, text, to_db(now)),
            )

    async def intent_feedback(self) -> list[IntentFeedback]:
        """Every recorded example, oldest first."""
        rows = await self.db.fetchall(
            "SELECT intent, text, created_at FROM intent_feedback ORDER BY id"
        )
        return [IntentFeedback(r["intent"], r["text"], from_db(r["created_at"])) for r in rows]
