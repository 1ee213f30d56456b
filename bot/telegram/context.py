"""What every handler shares, typed: `context.bot_data` is a `BotData` (PTB's ContextTypes)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, filters

from bot.services import Services
from bot.telegram.delivery import Broadcaster

HOLD_SECONDS = 20.0  # messages sent over the relay limit are relayed together after this


class StaffChat(filters.UpdateFilter):
    """Updates from the staff supergroup; its id (VOTEBOT_SUPPORT_CHAT) is set by the guard."""

    def __init__(self) -> None:
        super().__init__(name="StaffChat")
        self.chat_id: int | None = None

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        return self.chat_id is not None and chat is not None and chat.id == self.chat_id


class RelayHold:
    """Messages held over the relay limit (the limit itself is read from the database), with a
    single warning per burst."""

    def __init__(self) -> None:
        self.warned: set[int] = set()
        # Messages over the limit, relayed together after `hold_seconds`: (text, message).
        self.held: dict[int, list[tuple[str | None, Message]]] = {}
        self.hold_seconds = HOLD_SECONDS
        self.tasks: set[asyncio.Task[None]] = set()


class BotData:
    """The Application's shared state: services, the staff-group filter, the relay hold, the
    front-end effects, the broadcast worker, voters about to comment on a closed handoff."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self.owns_services = False  # opened in post_init, so closed in post_shutdown
        self.staff_chat = StaffChat()
        self.relay_hold = RelayHold()
        # Front-end effects a flow step can request (Step.effect): name → async (update, context).
        self.effects: dict[str, Callable[[Update, Context], Awaitable[None]]] = {}
        self.broadcaster: Broadcaster | None = None
        self.awaiting_comment: set[int] = set()

    @property
    def services(self) -> Services:
        """The shared services (given to `build_application`, or opened in post_init)."""
        assert self._services is not None, "services are opened in post_init"
        return self._services

    @services.setter
    def services(self, services: Services | None) -> None:
        self._services = services

    @property
    def has_services(self) -> bool:
        """Whether services are open yet."""
        return self._services is not None


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
# The bot and job queue types stay loose: PTB's builder does not carry them through.
App = Application[Any, Context, dict[Any, Any], dict[Any, Any], BotData, Any]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
