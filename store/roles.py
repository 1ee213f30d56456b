"""Roles granted by admins: broadcaster, support."""

from __future__ import annotations

from datetime import datetime

from store.db import Database
from store.times import to_db

ROLES = ("broadcaster", "support")


class RoleQueries:
    """Reads and writes of the roles table."""

    db: Database

    async def grant_role(self, user_id: int, role: str, by: int | None, now: datetime) -> bool:
        """Grant a role; False if the user already had it."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, role) DO NOTHING",
                (user_id, role, by, to_db(now)),
            )
            return cursor.rowcount == 1

    async def revoke_role(self, user_id: int, role: str) -> bool:
        """Revoke a role; False if the user did not have it."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM roles WHERE user_id = ? AND role = ?", (user_id, role)
            )
            return cursor.rowcount == 1

    async def roles_of(self, user_id: int) -> frozenset[str]:
        """The roles a user holds (admins come from settings, not from here)."""
        rows = await self.db.fetchall("SELECT role FROM roles WHERE user_id = ?", (user_id,))
        return frozenset(r["role"] for r in rows)

    async def list_roles(self) -> list[tuple[int, str]]:
        """Every (user_id, role) granted, sorted."""
        rows = await self.db.fetchall("SELECT user_id, role FROM roles ORDER BY role, user_id")
        return [(r["user_id"], r["role"]) for r in rows]
