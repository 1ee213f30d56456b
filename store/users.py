"""Voters: profile, language, opt-ins, first and last seen."""

from __future__ import annotations

from datetime import datetime

from store.db import Database, Row
from store.models import User
from store.times import from_db, to_db

PROFILE_FIELDS = frozenset({"first_name", "language", "category", "departement", "reminders"})


def user_from_row(row: Row, user_id: int | None = None) -> User:
    """A User from a row holding the users columns (`user_id` may be given instead)."""
    reminders = row["reminders"]
    return User(
        user_id=row["user_id"] if user_id is None else user_id,
        first_name=row["first_name"],
        language=row["language"],
        category=row["category"],
        departement=row["departement"],
        reminders=None if reminders is None else bool(reminders),
        active=bool(row["active"]),
        first_seen=from_db(row["first_seen"]),
        last_seen=from_db(row["last_seen"]),
    )


class UserQueries:
    """Reads and writes of the users table."""

    db: Database

    async def touch_user(self, user_id: int, first_name: str, now: datetime) -> User:
        """Record that a voter was seen (creating them), and mark them active again."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (user_id, first_name, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                "first_name = excluded.first_name, last_seen = excluded.last_seen, active = 1",
                (user_id, first_name, to_db(now), to_db(now)),
            )
        user = await self.get_user(user_id)
        assert user is not None
        return user

    async def get_user(self, user_id: int) -> User | None:
        """One voter, or None."""
        row = await self.db.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return user_from_row(row) if row else None

    async def update_profile(self, user_id: int, **fields: str | None) -> None:
        """Change profile fields (first_name, language, category, departement)."""
        unknown = set(fields) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        for name, value in fields.items():
            # Column names come from the fixed whitelist above, values are parameters.
            await self.db.execute(
                f"UPDATE users SET {name} = ? WHERE user_id = ?", (value, user_id)
            )

    async def set_reminders(self, user_id: int, enabled: bool) -> None:
        """Record the voter's answer about reminders."""
        await self.db.execute(
            "UPDATE users SET reminders = ? WHERE user_id = ?", (int(enabled), user_id)
        )

    async def set_active(self, user_id: int, active: bool) -> None:
        """Mark a voter reachable (or not, after they blocked the bot)."""
        await self.db.execute(
            "UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id)
        )

    async def count_users(self) -> int:
        """How many voters the store knows."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM users")
        return int(row["n"]) if row else 0
