"""Single-runner jobs on a shared PostgreSQL database: one broadcast sender at a time, taken
over within seconds when it dies; the retention purge skipped while another process holds it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.ext import Application

from bot.broadcast import Variables
from bot.election import Election
from bot.leases import Lease, utc_now
from bot.services import Services
from bot.settings import Settings
from bot.telegram import privacy as support_jobs
from bot.telegram.delivery import Broadcaster
from store import Audience, Conversation, StepCommit, open_store
from store.support import TranscriptLine
from tests.conftest import ACTIVATION_NOW, make_settings
from tests.fakes.botapi import FakeBotAPI

OPTED_IN: dict[str, Any] = {"reminders": True}


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return make_settings(tmp_path, VOTEBOT_DB=pg_url)


SENT: list[str] = []  # which replica sent, in the order the sends reached Telegram


class Replica:
    """One bot process's sender: its own store connections, lease holder and Telegram client."""

    def __init__(self, name: str, services: Services, app: Application, store: Any) -> None:
        self.name = name
        self.store = store
        self.sent: list[int] = []
        self.holders: list[str | None] = []  # the lease's holder as each send started
        self.dead = False
        self.app = app
        self.worker = Broadcaster(
            store,
            self,
            Variables(services.renderer, services.election),
            services.renderer,
            services.clock,
            rate=30.0,
            poll=0.05,
        )
        self.worker.lease = Lease(store, "broadcast", ttl=1.0, holder=name)

    async def send_message(self, chat_id: int, text: str, **kw: Any) -> Any:
        if self.dead:  # killed: the request never completes
            await asyncio.Event().wait()
        self.holders.append(await self.store.lease_holder("broadcast", utc_now()))
        message = await self.app.bot.send_message(chat_id, text, **kw)
        self.sent.append(chat_id)
        SENT.append(self.name)
        return message


@pytest.fixture
async def second_store(pg_url: str, services: Services) -> AsyncIterator[Any]:
    store = await open_store(pg_url)  # another process's connection pool
    yield store
    await store.close()


async def test_one_sender_at_a_time_and_a_takeover_when_it_dies(
    services: Services, app: Application, api: FakeBotAPI, second_store: Any
) -> None:
    voters = list(range(1, 61))
    for uid in voters:
        await services.store.commit_step(
            StepCommit(Conversation(uid, "menu", "main", {}), profile=OPTED_IN),
            ACTIVATION_NOW,
        )
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    SENT.clear()
    a = Replica("a", services, app, services.store)
    b = Replica("b", services, app, second_store)
    a.worker.start()
    while len(a.sent) < 10:
        await asyncio.sleep(0.01)
    b.worker.start()
    await asyncio.sleep(0.5)
    assert b.sent == []  # a holds the lease: b waits
    a.dead = True
    assert a.worker._task is not None
    a.worker._task.cancel()  # killed: no release, its sends in flight never finish
    killed = time.monotonic()
    while await services.store.active_broadcast() is not None:
        assert time.monotonic() - killed < 30, "b never took over"  # liveness, not speed
        await asyncio.sleep(0.05)
    await b.worker.stop()
    assert sorted(SENT) == SENT and "b" in SENT  # a's sends, then b's: never two at once
    assert set(a.holders) == {"a"} and set(b.holders) == {"b"}  # each only while it held it
    delivered = [int(c.params["chat_id"]) for c in api.delivered]
    assert sorted(delivered) == voters  # everyone once: in-flight sends of a were redone by b
    counts = await services.store.broadcast_counts(bid)
    assert (counts.sent, counts.open) == (60, 0)


async def test_a_sender_that_lost_the_lease_recovers_the_next_holders_sends_in_flight(
    services: Services, app: Application, api: FakeBotAPI
) -> None:
    for uid in range(1, 6):
        await services.store.commit_step(
            StepCommit(Conversation(uid, "menu", "main", {}), profile=OPTED_IN),
            ACTIVATION_NOW,
        )
    a = Replica("a", services, app, services.store)
    assert a.worker.lease is not None
    a.worker.lease.ttl = 0.6
    a.worker.start()
    while await services.store.lease_holder("broadcast", utc_now()) != "a":
        await asyncio.sleep(0.01)
    # Another process ("b") takes the lease, starts a broadcast and dies with a send in flight.
    await services.store.release_lease("broadcast", "a")
    assert await services.store.take_lease("broadcast", "b", utc_now(), timedelta(seconds=1.5))
    taken = time.monotonic()
    await asyncio.sleep(0.5)  # a notices it lost the lease (its ttl is 0.6 s)
    bid = await services.store.create_broadcast("x", Audience(), ACTIVATION_NOW, ACTIVATION_NOW)
    await services.store.start_broadcast(bid, ACTIVATION_NOW)
    await services.store.mark_recipient(bid, 3, "sending", attempts=1)
    while await services.store.active_broadcast() is not None:
        assert time.monotonic() - taken < 30, "a never resent what b had in flight"
        await asyncio.sleep(0.05)
    await a.worker.stop()
    assert a.sent and set(a.holders) == {"a"}  # only once b's lease expired and a took it
    assert sorted(int(c.params["chat_id"]) for c in api.delivered) == [1, 2, 3, 4, 5]


async def test_the_purge_is_skipped_while_another_process_holds_its_lease(
    services: Services,
) -> None:
    store: Any = services.store  # the support queries are not in the Store protocol yet
    old = ACTIVATION_NOW - timedelta(days=services.settings.retention_days + 1)
    await store.touch_user(5, "Anne", old)
    await store.record_messages([TranscriptLine(5, old, "in", "vieux")])
    context = SimpleNamespace(bot_data=SimpleNamespace(services=services))
    ttl = timedelta(seconds=support_jobs.PURGE_LEASE_SECONDS)
    assert await services.store.take_lease("purge", "another-process", utc_now(), ttl)
    await support_jobs.purge_job(context)  # type: ignore[arg-type]
    assert len(await store.transcript(5)) == 1
    assert await services.store.release_lease("purge", "another-process")
    await support_jobs.purge_job(context)  # type: ignore[arg-type]
    assert await store.transcript(5) == []


async def test_the_bot_on_postgresql_answers_a_voter(
    settings: Settings, election: Election, services: Services, chat: Any
) -> None:
    await chat.say("/start")
    assert chat.texts()
    assert await services.store.get_user(chat.user_id) is not None
