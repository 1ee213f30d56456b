"""The only code with SQL: an async store over SQLite (WAL, numbered migrations)."""

from __future__ import annotations

from pathlib import Path

from store.base import Store
from store.broadcasts import Audience, Broadcast, BroadcastCounts, BroadcastQueries, Recipient
from store.conversations import ConversationQueries
from store.db import Database
from store.directory import DirectoryEntry, DirectoryQueries
from store.inbox import Claimed, InboxCounts, InboxQueries, Intake, Received
from store.models import Conversation, ProcessedUpdate, StepCommit, TransitionEvent, User
from store.progress import ProgressQueries
from store.roles import RoleQueries
from store.roll import RollEntry, RollGeneration, RollQueries, RollStats
from store.support import SupportQueries
from store.users import UserQueries

__all__ = [
    "Audience",
    "Broadcast",
    "BroadcastCounts",
    "Claimed",
    "Conversation",
    "DirectoryEntry",
    "InboxCounts",
    "Intake",
    "ProcessedUpdate",
    "Received",
    "Recipient",
    "RollEntry",
    "RollGeneration",
    "RollStats",
    "SqliteStore",
    "StepCommit",
    "Store",
    "TransitionEvent",
    "User",
    "open_store",
]


class SqliteStore(
    UserQueries,
    ConversationQueries,
    RoleQueries,
    ProgressQueries,
    DirectoryQueries,
    RollQueries,
    SupportQueries,
    BroadcastQueries,
    InboxQueries,
):
    """The SQLite backend: one query mixin per table group, one shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()


async def open_store(path: str | Path) -> SqliteStore:
    """Open the SQLite store at `path`, applying pending migrations."""
    return SqliteStore(await Database.open(path))
