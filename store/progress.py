"""The voter's checklist: identifier known, account activated, vote code in hand, voted."""

from __future__ import annotations

from store.db import Database

ITEMS = ("identifier", "account", "vote_code", "voted")


class ProgressQueries:
    """Reads of the progress table (writes go through `commit_step`)."""

    db: Database

    async def progress_of(self, user_id: int) -> frozenset[str]:
        """The checklist items a voter has done."""
        rows = await self.db.fetchall("SELECT item FROM progress WHERE user_id = ?", (user_id,))
        return frozenset(r["item"] for r in rows)
