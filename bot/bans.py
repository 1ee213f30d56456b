"""Who may still reach a person: bans (kept through /oubli) and the cap on handoff requests."""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services

HANDOFF_WINDOW = timedelta(hours=1)  # VOTEBOT_HANDOFFS_PER_HOUR counts over this window


async def handoff_refusal(services: Services, user_id: int) -> str | None:
    """The template answering a voter who may not reach a person now, or None if they may.

    A banned voter hears that nobody is reachable here (as without a staff group); a voter
    over `VOTEBOT_HANDOFFS_PER_HOUR` is asked to wait. A handoff already open is never refused.
    """
    store, now = services.store, services.clock()
    if await store.is_banned(user_id, now):
        return "support/unavailable.html"
    if await store.open_handoff_of(user_id) is not None:
        return None
    asked = await store.handoffs_asked_since(user_id, now - HANDOFF_WINDOW)
    if asked >= services.settings.handoffs_per_hour:
        return "support/too_many.html"
    return None
