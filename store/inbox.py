"""The durable inbox: updates stored on receipt, claimed with a lease, finished with their step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from store.conversations import LOAD_TURN, turn_from_row
from store.db import Database, Work, read, write_many
from store.models import TurnState
from store.times import to_db

QUEUED, DONE, DROPPED, THROTTLED, ASIDE = "queued", "done", "dropped", "throttled", "aside"

# Lease the oldest queued update of each voter, unless it is leased already (in hand, or
# waiting for a retry): one statement, run in an atomic unit (`_claim`): on SQLite in the one
# writer's transaction, on PostgreSQL under the write lock (store/postgres.py), so processes
# sharing the database never lease the same update twice.
_CLAIM = """
UPDATE inbox SET claimed_by = ?, lease_until = ?
WHERE status = 'queued' AND update_id IN (
  SELECT i.update_id FROM inbox AS i
  WHERE i.status = 'queued'
    AND i.update_id = (SELECT MIN(j.update_id) FROM inbox AS j
                       WHERE j.voter = i.voter AND j.status = 'queued')
    AND (i.lease_until IS NULL OR i.lease_until <= ?)
  ORDER BY i.update_id
  LIMIT ?)
RETURNING update_id, voter, payload, attempts
"""


@dataclass(frozen=True)
class Received:
    """One update as it arrived: its id, ordering key and JSON text."""

    update_id: int
    voter: int
    payload: str
    droppable: bool = True  # a message or button press (not e.g. a block/unblock notice)


@dataclass(frozen=True)
class Intake:
    """What storing a batch did: new updates, repeats ignored, excess dropped, who to warn."""

    stored: int
    repeated: int
    dropped: int
    warn: tuple[int, ...]  # voters whose backlog just reached the cap (told once to wait)
    queued: tuple[int, ...] = ()  # the voter of each update queued (one entry per update)
    claimed: tuple[Claimed, ...] = ()  # leased in the same transaction (`ClaimFor`)


@dataclass(frozen=True)
class ClaimFor:
    """A worker's claim to run with a store: its owner, free slots and lease end."""

    owner: str
    limit: int
    until: datetime


@dataclass(frozen=True, order=True)
class Claimed:
    """An update leased to a worker; on SQLite with its voter's turn state, read in the
    transaction that leased it (the turn then needs no hop of its own to load it)."""

    update_id: int
    voter: int
    payload: str
    attempts: int
    turn: TurnState | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InboxCounts:
    """Updates waiting, set aside (poison) and dropped (flood)."""

    queued: int
    aside: int
    dropped: int


def _claim(claim: ClaimFor, now: str, prefetch: bool) -> Work[tuple[Claimed, ...]]:
    """Lease what is ready; with `prefetch`, read each voter's turn state alongside."""
    rows = yield read(_CLAIM, (claim.owner, to_db(claim.until), now, claim.limit))
    claimed = []
    for update_id, voter, payload, attempts in sorted(tuple(r) for r in rows):
        turn = None
        if prefetch and voter > 0:  # a person (groups and channels have negative ids)
            found = yield read(LOAD_TURN, (voter, update_id))
            turn = turn_from_row(found[0], voter)
        claimed.append(Claimed(update_id, voter, payload or "{}", attempts, turn))
    return tuple(claimed)


def _add(
    batch: Sequence[Received], now: str, cap: int, claim: ClaimFor | None, prefetch: bool
) -> Work[Intake]:
    ids = [r.update_id for r in batch]
    voters = sorted({r.voter for r in batch})
    marks = ",".join("?" * len(ids))
    found = yield read(f"SELECT update_id FROM inbox WHERE update_id IN ({marks})", ids)
    seen = {row[0] for row in found}
    marks = ",".join("?" * len(voters))
    counted = yield read(
        f"SELECT voter, COUNT(*) FROM inbox WHERE status = 'queued' AND voter IN ({marks}) "
        "GROUP BY voter",
        voters,
    )
    queued = {row[0]: row[1] for row in counted}
    keep, drop, warn, repeated = [], [], [], 0
    for item in sorted(batch, key=lambda r: r.update_id):
        if item.update_id in seen:
            repeated += 1
            continue
        seen.add(item.update_id)
        if item.droppable and queued.get(item.voter, 0) >= cap:
            told = item.voter in warn
            if not told:
                told = bool((yield read(_WARNED, (item.voter, item.voter))))
            if not told:
                warn.append(item.voter)
            drop.append((item.update_id, item.voter, now, DROPPED if told else THROTTLED, now))
            continue
        queued[item.voter] = queued.get(item.voter, 0) + 1
        keep.append((item.update_id, item.voter, item.payload, now))
    if keep:
        yield write_many(
            "INSERT INTO inbox (update_id, voter, payload, received_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (update_id) DO NOTHING",
            keep,
        )
    if drop:
        yield write_many(
            "INSERT INTO inbox (update_id, voter, received_at, status, finished_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
            drop,
        )
    claimed: tuple[Claimed, ...] = ()
    if keep and claim is not None and claim.limit > 0:
        claimed = yield from _claim(claim, now, prefetch)
    return Intake(len(keep), repeated, len(drop), tuple(warn), tuple(k[1] for k in keep), claimed)


# Whether the voter was already told to wait during their current backlog.
_WARNED = (
    "SELECT 1 FROM inbox WHERE voter = ? AND status = 'throttled' AND update_id > "
    "(SELECT MIN(update_id) FROM inbox WHERE voter = ? AND status = 'queued') LIMIT 1"
)


class InboxQueries:
    """Reads and writes of the inbox table."""

    db: Database

    async def inbox_add(
        self, batch: Sequence[Received], now: datetime, cap: int, claim: ClaimFor | None = None
    ) -> Intake:
        """Store a batch in one transaction; a voter's droppable updates beyond `cap` queued
        ones are recorded as dropped (content not kept), the first of them marked to warn.
        With `claim`, the same transaction then leases what is ready, as `inbox_claim` does
        (one hop instead of two between receiving an update and handling it)."""
        if not batch:
            return Intake(0, 0, 0, ())
        return await self.db.atomic(partial(_add, batch, to_db(now), cap, claim, self._prefetch))

    async def inbox_claim(
        self, owner: str, limit: int, now: datetime, until: datetime
    ) -> list[Claimed]:
        """Lease up to `limit` updates to `owner`: each the oldest queued of its voter, none of
        a voter who has one in hand; oldest first."""
        if limit <= 0:
            return []
        # One atomic unit on both backends (on PostgreSQL under the write lock, so processes
        # sharing the database never lease the same update twice).
        claim = ClaimFor(owner, limit, until)
        return list(await self.db.atomic(partial(_claim, claim, to_db(now), self._prefetch)))

    @property
    def _prefetch(self) -> bool:
        """Whether a claim reads the turn states alongside: on SQLite it saves each turn a
        hop to the database thread; on PostgreSQL it would only move the round trips."""
        return self.db.dialect == "sqlite"

    async def inbox_renew(self, owner: str, until: datetime) -> None:
        """Extend the leases of every update `owner` still holds."""
        await self.db.execute(
            "UPDATE inbox SET lease_until = ? WHERE claimed_by = ? AND status = 'queued'",
            (to_db(until), owner),
        )

    async def inbox_done(self, update_id: int, now: datetime) -> None:
        """Finish an update (its content is forgotten)."""
        await self.db.execute(
            "UPDATE inbox SET status = 'done', payload = NULL, claimed_by = NULL, "
            "lease_until = NULL, finished_at = ? WHERE update_id = ? AND status = 'queued'",
            (to_db(now), update_id),
        )

    async def inbox_retry(self, update_id: int, not_before: datetime, failed: bool) -> int:
        """Release an update to be handled again from `not_before`; a failed try is counted.
        Returns the tries failed so far."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE inbox SET claimed_by = NULL, lease_until = ?, attempts = attempts + ? "
                "WHERE update_id = ?",
                (to_db(not_before), 1 if failed else 0, update_id),
            )
            rows = list(
                await conn.execute_fetchall(
                    "SELECT attempts FROM inbox WHERE update_id = ?", (update_id,)
                )
            )
        return int(rows[0][0]) if rows else 0

    async def inbox_set_aside(self, update_id: int, now: datetime, error: str) -> None:
        """Take an update that cannot be handled out of the queue (its content is forgotten)."""
        await self.db.execute(
            "UPDATE inbox SET status = 'aside', payload = NULL, claimed_by = NULL, "
            "lease_until = NULL, finished_at = ?, error = ? WHERE update_id = ?",
            (to_db(now), error[:500], update_id),
        )

    async def inbox_owners(self) -> list[str]:
        """The workers holding leases now (to release those of a process that died)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT claimed_by FROM inbox WHERE status = 'queued' "
            "AND claimed_by IS NOT NULL"
        )
        return [row[0] for row in rows]

    async def inbox_release(self, owner: str) -> None:
        """Give back every lease of `owner` (a worker known to be gone)."""
        await self.db.execute(
            "UPDATE inbox SET claimed_by = NULL, lease_until = NULL "
            "WHERE claimed_by = ? AND status = 'queued'",
            (owner,),
        )

    async def inbox_last(self, since: datetime) -> int | None:
        """The newest update id received since a date (the getUpdates offset to resume at)."""
        row = await self.db.fetchone(
            "SELECT MAX(update_id) FROM inbox WHERE received_at >= ?", (to_db(since),)
        )
        return None if row is None or row[0] is None else int(row[0])

    async def inbox_counts(self) -> InboxCounts:
        """How many updates wait, were set aside, were dropped."""
        rows = await self.db.fetchall("SELECT status, COUNT(*) FROM inbox GROUP BY status")
        counts = {row[0]: row[1] for row in rows}
        return InboxCounts(
            queued=counts.get(QUEUED, 0),
            aside=counts.get(ASIDE, 0),
            dropped=counts.get(DROPPED, 0) + counts.get(THROTTLED, 0),
        )
