"""Keeps the running bot's contact directory in step with `votebot directory import`."""

from __future__ import annotations

from bot.telegram import handlers as h
from bot.telegram.context import Context

REFRESH_SECONDS = 60


async def refresh_directory(context: Context) -> None:
    """Re-reads the directory from the store (a job, every minute)."""
    await h.services_of(context).refresh_directory()
