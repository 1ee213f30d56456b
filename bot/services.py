"""The long-lived objects every front end shares, built once at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.clock import Clock
from bot.directory import Directory, directory_entry, directory_text
from bot.election import Election
from bot.engine import Engine, TextHandler
from bot.facts import Change, draft_broadcast, effective, set_fact
from bot.flows import default_flows, start_step
from bot.intent import model as intent_model
from bot.roll import RollLookup, extract_name
from bot.routing import QuestionGuard, Router, feedback_recorder, profile_text
from bot.settings import Settings
from bot.texts import Renderer
from store import Store, open_store


def texts_dir(settings: Settings, election: Election) -> str | Path | None:
    """The operator's template folder: `VOTEBOT_TEXTS_DIR`, else the configuration's."""
    return settings.texts_dir or election.texts_dir


@dataclass
class Services:
    """Settings, election, store, engine, renderer and the clock, passed to every front end."""

    settings: Settings
    election: Election
    store: Store
    engine: Engine
    renderer: Renderer
    roll: RollLookup | None = None  # roll look-ups; `roll.entry` for the intent router
    base_election: Election | None = None  # the configuration, before operators' facts
    # Called with the new election when facts change (e.g. the broadcast worker's variables).
    election_listeners: list[Callable[[Election], None]] = field(default_factory=list)
    # The one clock: the engine and the renderer hold this same object (bot/clock.py).
    clock: Clock = field(default_factory=Clock)

    def apply_election(self, election: Election) -> None:
        """Put an election with new facts in force for the next message (no restart)."""
        self.election = election
        self.engine.election = election
        self.renderer.election = election
        for listener in self.election_listeners:
            listener(election)

    async def set_fact(self, key: str, text: str, by: int | None) -> Change:
        """Set one election fact now; a fact voters waited for gets a broadcast drafted."""
        now = self.clock()
        change = await set_fact(self.store, self.election, key, text, by, now)
        self.apply_election(change.election)
        if change.published:
            draft = self.renderer.text(f"reminders/published_{key}.html")
            drafted = await draft_broadcast(self.store, key, draft, now)
            change = replace(change, drafted=drafted)
        return change

    async def refresh_live(self) -> None:
        """Re-read what operators may change from elsewhere: election facts, reminders on."""
        base = self.base_election or self.election
        election = await effective(self.store, base)
        if election != self.election:
            self.apply_election(election)
        self.renderer.reminders_on = frozenset(
            b.plan_key
            for b in await self.store.planned_reminders()
            if b.state == "scheduled" and b.plan_key
        )

    @classmethod
    async def open(cls, settings: Settings, election: Election) -> Services:
        """Open the store and build the engine and renderer on it."""
        clock = Clock(settings.now)
        store = await open_store(settings.db)
        await store.directory_seed(Directory.from_election(election).entries)
        directory = Directory(tuple(await store.directory_list()))
        roll = RollLookup(
            store,
            settings.roll_lookups_per_hour,
            settings.roll_lookups_per_day,
            roll_ballot=lambda: services.election.roll_ballot,
        )
        text_handlers: dict[str, TextHandler] = {
            "roll_lookup": QuestionGuard(roll, own=()),
            "directory_query": QuestionGuard(
                directory_text, own=("colleague_missing_contact", "check_roll")
            ),
            "profile_text": profile_text,
        }
        flows = default_flows()
        router = Router(
            flows,
            roll_entry=roll.entry,
            directory_entry=directory_entry,
            extract_name=extract_name,
        )
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
        engine.press_hooks["info.clarify"] = feedback_recorder(store)
        engine.commands.update(
            {
                "profil": "profile.category",
                "progression": "progress.show",
                "rappels": "reminders.settings",
            }
        )
        renderer = Renderer(election, clock, directory, texts_dir(settings, election))
        services = cls(
            settings, election, store, engine, renderer, roll, base_election=election, clock=clock
        )
        await services.refresh_live()
        return services

    async def warm_up(self) -> None:
        """Load the intent model now (a child trains it if not cached), not at a message."""
        await asyncio.to_thread(intent_model)

    async def refresh_directory(self) -> None:
        """Re-read the directory from the store (after `votebot directory import`)."""
        self.renderer.directory = Directory(tuple(await self.store.directory_list()))

    async def close(self) -> None:
        """Release the store."""
        await self.store.close()
