"""Who may do what: admins come from settings, other roles from the store."""

from __future__ import annotations

from bot.services import Services

ADMIN = "admin"


async def has_role(services: Services, user_id: int, role: str) -> bool:
    """Whether a user holds `role`; admins (VOTEBOT_ADMINS) hold every role."""
    if user_id in services.settings.admins:
        return True
    if role == ADMIN:
        return False
    return role in await services.store.roles_of(user_id)
