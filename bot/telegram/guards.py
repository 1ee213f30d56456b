"""Role checks for staff commands: a refused user gets exactly the unknown-command answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from telegram import Update
from telegram.ext import ContextTypes

from bot.auth import has_role
from bot.telegram import handlers as h

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def requires(*roles: str) -> Callable[[Callback], Callback]:
    """Run the callback only for holders of one of `roles` (admins always pass)."""

    def decorate(callback: Callback) -> Callback:
        @wraps(callback)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user = update.effective_user
            services = h.services_of(context)
            if user is not None:
                for role in roles:
                    if await has_role(services, user.id, role):
                        await callback(update, context)
                        return
            if update.callback_query is not None:
                await update.callback_query.answer()
                await h._process(update, context, "button", "")
            else:
                await h.on_command(update, context)

        return guarded

    return decorate
