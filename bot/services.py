"""The long-lived objects every front end shares, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.election import Election
from bot.engine import Engine
from bot.flows import default_flows
from bot.settings import PARIS, Settings
from bot.texts import Renderer
from store import Store, open_store


def make_clock(settings: Settings) -> Callable[[], datetime]:
    """The clock: `VOTEBOT_NOW` when set (demos, tests), otherwise the real time."""
    fixed = settings.now
    if fixed is not None:
        return lambda: fixed
    return lambda: datetime.now(PARIS)


@dataclass
class Services:
    """Settings, election, store, engine and renderer, passed to every front end."""

    settings: Settings
    election: Election
    store: Store
    engine: Engine
    renderer: Renderer

    @classmethod
    async def open(cls, settings: Settings, election: Election) -> Services:
        """Open the store and build the engine and renderer on it."""
        clock = make_clock(settings)
        store = await open_store(settings.db_path)
        engine = Engine(store, election, default_flows(), clock)
        engine.commands["rappels"] = "reminders.settings"
        return cls(settings, election, store, engine, Renderer(election, clock))

    async def close(self) -> None:
        """Release the store."""
        await self.store.close()
