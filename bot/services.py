"""The long-lived objects every front end shares, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.directory import Directory, directory_entry, directory_text
from bot.election import Election
from bot.engine import Engine
from bot.flows import default_flows, start_step
from bot.roll import RollLookup
from bot.routing import Router
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
    roll: RollLookup | None = None  # roll look-ups; `roll.entry` for the intent router

    @classmethod
    async def open(cls, settings: Settings, election: Election) -> Services:
        """Open the store and build the engine and renderer on it."""
        clock = make_clock(settings)
        store = await open_store(settings.db)
        await store.directory_seed(Directory.from_election(election).entries)
        directory = Directory(tuple(await store.directory_list()))
        roll = RollLookup(store, settings.roll_lookups_per_hour)
        text_handlers = {"roll_lookup": roll, "directory_query": directory_text}
        flows = default_flows()
        router = Router(flows, roll_entry=roll.entry, directory_entry=directory_entry)
        features = frozenset({"support"} if settings.support_chat else ())
        engine = Engine(
            store,
            election,
            flows,
            clock,
            text_handlers=text_handlers,
            router=router,
            features=features,
        )
        engine.start = start_step
        engine.commands.update(
            {
                "profil": "profile.category",
                "progression": "progress.show",
                "rappels": "reminders.settings",
            }
        )
        renderer = Renderer(election, clock, directory)
        return cls(settings, election, store, engine, renderer, roll)

    async def refresh_directory(self) -> None:
        """Re-read the directory from the store (after `votebot directory import`)."""
        self.renderer.directory = Directory(tuple(await self.store.directory_list()))

    async def close(self) -> None:
        """Release the store."""
        await self.store.close()
