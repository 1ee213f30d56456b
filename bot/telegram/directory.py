"""Keeps the running bot's contact directory in step with `votebot directory import`."""

from __future__ import annotations

from telegram.ext import ContextTypes

from bot.telegram import handlers as h

REFRESH_SECONDS = 60


async def refresh_directory(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-reads the directory from the store (a job, every minute)."""
    await h.services_of(context).refresh_directory()
