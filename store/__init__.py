"""The only code with SQL: an async store over SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from store.bans import BanQueries
from store.base import Store
from store.broadcasts import Audience, Broadcast, BroadcastCounts, BroadcastQueries, Recipient
from store.conversations import ConversationQueries
from store.db import Database, is_postgres_url
from store.directory import DirectoryEntry, DirectoryQueries
from store.election import ElectionQueries, ElectionSetting
from store.feedback import FeedbackQueries, IntentFeedback
from store.helpdesk import HelpdeskQueries
from store.inbox import Claimed, ClaimFor, InboxCounts, InboxQueries, Intake, Received
from store.leases import LeaseQueries
from store.models import (
    Conversation,
    ProcessedUpdate,
    StepCommit,
    TransitionEvent,
    TurnState,
    User,
)
from store.progress import ProgressQueries
from store.roles import RoleQueries
from store.roll import RollEntry, RollGeneration, RollQueries, RollStats
from store.sqlite import SqliteDatabase
from store.support import SupportQueries
from store.users import UserQueries

__all__ = [
    "Audience",
    "Broadcast",
    "BroadcastCounts",
    "ClaimFor",
    "Claimed",
    "Conversation",
    "DirectoryEntry",
    "ElectionSetting",
    "InboxCounts",
    "Intake",
    "IntentFeedback",
    "ProcessedUpdate",
    "Received",
    "Recipient",
    "RollEntry",
    "RollGeneration",
    "RollStats",
    "SqlStore",
    "SqliteStore",
    "StepCommit",
    "Store",
    "TransitionEvent",
    "TurnState",
    "User",
    "open_store",
]


class SqlStore(
    UserQueries,
    ConversationQueries,
    RoleQueries,
    ProgressQueries,
    DirectoryQueries,
    RollQueries,
    BanQueries,
    SupportQueries,
    HelpdeskQueries,
    BroadcastQueries,
    ElectionQueries,
    FeedbackQueries,
    LeaseQueries,
    InboxQueries,
):
    """The store: one query mixin per table group, on one database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def shared(self) -> bool:
        """True when other processes use the same database (PostgreSQL)."""
        return self.db.shared

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()


SqliteStore = SqlStore  # the name older code and tests use


async def open_store(target: str | Path) -> SqlStore:
    """Open the store at `target` (a SQLite file, or a postgresql:// URL), migrating it."""
    if is_postgres_url(target):
        from store.postgres import PostgresDatabase

        return SqlStore(await PostgresDatabase.open(str(target)))
    return SqlStore(await SqliteDatabase.open(target))
