"""Telegram's updates into the durable inbox (polling and webhook alike), and out of it into
the Application: stored first, confirmed to Telegram after, handled by the inbox worker."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any

from telegram.error import TelegramError

from bot.inbox import FLOOD_CAP, Handle, InboxWorker, Poison
from bot.redact import redact
from bot.services import Services
from bot.telegram.context import App
from bot.telegram.guards import parse_update
from bot.telegram.handlers import ANSWERED_MARK, SECRET_MARK
from bot.telegram.send import with_retry
from store import Claimed, Received

log = logging.getLogger(__name__)

DROPPABLE = frozenset({"message", "edited_message", "callback_query"})  # a voter's own acts
_background: set[asyncio.Task[Any]] = set()


def voter_of(raw: Mapping[str, Any]) -> int:
    """The ordering key of a raw update: its sender, else its chat, else 0 (never raises)."""
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, Mapping):
            continue
        for field in ("from", "user", "chat"):
            who = value.get(field)
            if isinstance(who, Mapping) and type(who.get("id")) is int:
                return int(who["id"])
    return 0


def without_secrets(raw: dict[str, Any]) -> dict[str, Any]:
    """The update with pasted secrets masked in its text, caption or document file name
    (what `handlers.visible_text` reads), marked `SECRET_MARK` so the handlers still delete
    the message and say why: a secret never reaches the inbox."""
    for kind in ("message", "edited_message"):
        message = raw.get(kind)
        if not isinstance(message, dict):
            continue
        for field in ("text", "caption"):
            value = message.get(field)
            if isinstance(value, str):
                masked, found = redact(value)
                if found:
                    message = {**message, field: masked}
                    raw = {**raw, kind: message, SECRET_MARK: True}
        document = message.get("document")
        if isinstance(document, dict) and isinstance(document.get("file_name"), str):
            masked, found = redact(document["file_name"])
            if found:
                message = {**message, "document": {**document, "file_name": masked}}
                raw = {**raw, kind: message, SECRET_MARK: True}
    return raw


# What a handler reads of the message a button was pressed on: where it is, never what it
# says (its text, entities and keyboard are the bot's own, and the bulk of the update).
PRESSED_FIELDS = ("message_id", "date", "chat", "message_thread_id", "is_topic_message", "from")


def without_pressed_text(raw: dict[str, Any]) -> dict[str, Any]:
    """The update with the pressed message of a button press cut to where it is."""
    query = raw.get("callback_query")
    if not isinstance(query, dict) or not isinstance(query.get("message"), dict):
        return raw
    pressed = query["message"]
    kept = {key: pressed[key] for key in PRESSED_FIELDS if key in pressed}
    return {**raw, "callback_query": {**query, "message": kept}}


def received(raw: object) -> Received | None:
    """A raw update as the inbox stores it; None without a usable update id."""
    if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
        return None
    raw = without_pressed_text(without_secrets(raw))
    kinds = set(raw) - {"update_id", SECRET_MARK, ANSWERED_MARK}
    payload = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    return Received(raw["update_id"], voter_of(raw), payload, bool(kinds) and kinds <= DROPPABLE)


class Intake:
    """Stores what Telegram delivers, wakes the worker, tells a flooding voter to wait."""

    def __init__(self, app: App, worker: InboxWorker, cap: int = FLOOD_CAP) -> None:
        self.app, self.worker, self.cap = app, worker, cap
        self._waiting: list[tuple[object, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def take_one(self, raw: object) -> None:
        """Store one update (a webhook call); calls arriving while a write is under way share
        the next transaction. Returns once it is stored; raises if the store failed."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((raw, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_waiting())
        await done

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                try:
                    await self.take([raw for raw, _ in waiting])
                except Exception as exc:
                    for _, done in waiting:
                        done.set_exception(exc)
                    continue
                for _, done in waiting:
                    done.set_result(None)
        finally:
            self._writer = None

    @property
    def services(self) -> Services:
        return self.app.bot_data.services

    async def take(self, raws: Iterable[object]) -> None:
        """Write a batch to the inbox in one transaction (raises if the store fails: then
        Telegram must not be told the updates arrived)."""
        batch = []
        for raw in raws:
            item = received(raw)
            if item is None:
                log.warning("an update without an update id was discarded")
                continue
            batch.append(item)
        offer = self.worker.offer()
        result = None
        try:
            result = await self.services.store.inbox_add(batch, self.worker.now(), self.cap, offer)
        finally:
            self.worker.adopt(offer, result)
        if result.dropped:
            log.info("%s updates dropped (flooding voters: %s)", result.dropped, result.warn)
        for voter in result.warn:
            self._warn(voter)

    def _warn(self, voter: int) -> None:
        text = self.services.renderer.text("common/flood.html")
        task = asyncio.create_task(_quietly(partial(self.app.bot.send_message, voter, text)))
        _background.add(task)
        task.add_done_callback(_background.discard)


def handler(app: App) -> Handle:
    """Handle one stored update through the Application's handlers."""

    async def handle(item: Claimed) -> None:
        try:
            raw = json.loads(item.payload)
        except ValueError as exc:
            raise Poison(f"stored update is not JSON ({type(exc).__name__})") from exc
        update = parse_update(raw, app.bot)  # None when malformed (logged without content)
        if update is None:
            raise Poison("malformed update")  # no content: the error is stored and logged
        await app.process_update(update)

    return handle


def set_aside_notice(app: App) -> Callable[[Claimed, str], Awaitable[None]]:
    """Tell the voter, once, that their update could not be handled."""

    async def notice(item: Claimed, error: str) -> None:
        if item.voter > 0:  # a person (groups and channels have negative ids)
            services = app.bot_data.services
            text = services.renderer.text("common/error.html")
            await _quietly(partial(app.bot.send_message, item.voter, text))

    return notice


def worker_for(app: App) -> tuple[InboxWorker, Intake]:
    """The inbox worker and intake of an Application whose services are open."""
    services = app.bot_data.services
    worker = InboxWorker(
        services.store, handler(app), on_set_aside=set_aside_notice(app), clock=services.clock
    )
    return worker, Intake(app, worker)


async def _quietly(call: Callable[[], Awaitable[object]]) -> None:
    try:
        await with_retry(call)
    except TelegramError as exc:
        log.info("courtesy message not delivered: %s", exc)
