"""Frozen dataclasses the store hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class User:
    """A voter as the bot knows them."""

    user_id: int
    first_name: str
    language: str
    category: str | None
    departement: str | None
    reminders: bool | None
    active: bool
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Conversation:
    """Where a voter stands: flow, state and the flow's data."""

    user_id: int
    flow: str
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class TransitionEvent:
    """One step taken by a voter, kept for funnels."""

    user_id: int
    at: datetime
    flow: str
    source: str
    dest: str
    trigger: str


@dataclass(frozen=True)
class ProcessedUpdate:
    """A Telegram update already handled, with the replies it produced."""

    update_id: int
    user_id: int | None
    replies: list[dict[str, Any]]
    replied: bool


@dataclass(frozen=True)
class StepCommit:
    """Everything one handled update changes, written in one transaction."""

    conversation: Conversation
    events: tuple[TransitionEvent, ...] = ()
    update_id: int | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    first_name: str = ""
    profile: dict[str, str | None] = field(default_factory=dict)  # changed profile fields
    progress_done: frozenset[str] = frozenset()  # checklist items newly done
    progress_undone: frozenset[str] = frozenset()  # checklist items the voter unticked


@dataclass(frozen=True)
class TurnState:
    """Everything the engine reads before handling one update, fetched in one query."""

    user: User | None
    conversation: Conversation | None
    progress: frozenset[str]
    processed: ProcessedUpdate | None
