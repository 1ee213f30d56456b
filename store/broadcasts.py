"""Broadcasts: the persistent queue (one row per recipient), calendar plan and drafts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.db import Database, Row
from store.progress import ITEMS
from store.times import from_db, to_db

AUDIENCE_KEYS = ("category", "departement", "not_done")
LEGACY_KEYS = {"progress": "not_done"}  # rows written before criteria could combine
# Recipient states; `sending` means "the HTTP call may be in flight" (see README).
RECIPIENT_STATES = ("pending", "sending", "sent", "blocked", "failed")


@dataclass(frozen=True)
class Audience:
    """Who a broadcast targets among opted-in, active voters: criteria combined with AND.

    `not_done=STEP` means the voters who have NOT done STEP yet (e.g. `not_done=voted`); a
    later step implies every earlier one, so "J'ai voté" also counts as account and vote code.
    """

    category: str | None = None
    departement: str | None = None
    not_done: str | None = None

    @classmethod
    def parse(cls, text: str) -> Audience:
        """`all` or `key=value` joined by commas (category, departement, not_done)."""
        values: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.strip().partition("=")
            key, value = key.strip(), value.strip()
            if key == "all" and not sep:
                continue
            key = LEGACY_KEYS.get(key, key)
            if key not in AUDIENCE_KEYS or not value or key in values:
                raise ValueError(
                    f"bad audience {text!r} (all, or category=X,departement=NN,not_done=STEP)"
                )
            if key == "not_done" and value not in ITEMS:
                raise ValueError(f"bad step {value!r} (steps: {', '.join(ITEMS)})")
            values[key] = value
        return cls(**values)

    @property
    def criteria(self) -> list[tuple[str, str]]:
        """The criteria set, as (key, value) in a fixed order."""
        return [(k, v) for k in AUDIENCE_KEYS if (v := getattr(self, k)) is not None]

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.criteria) or "all"

    def where(self) -> tuple[str, tuple[Any, ...]]:
        """The SQL filter on `users u` (fixed text per criterion, values as parameters)."""
        sql, params = ["u.reminders = 1 AND u.active = 1"], []
        if self.category is not None:
            sql.append("u.category = ?")
            params.append(self.category)
        if self.departement is not None:
            sql.append("u.departement = ?")
            params.append(self.departement)
        if self.not_done is not None:
            later = ITEMS[ITEMS.index(self.not_done) :]  # done later implies done
            marks = ", ".join("?" * len(later))
            sql.append(
                "NOT EXISTS (SELECT 1 FROM progress p "
                f"WHERE p.user_id = u.user_id AND p.item IN ({marks}))"
            )
            params.extend(later)
        return " AND ".join(sql), tuple(params)


@dataclass(frozen=True)
class Broadcast:
    """One message to many voters."""

    id: int
    text: str
    audience: Audience
    send_at: datetime
    state: str
    plan_key: str | None
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    report_chat: int | None
    report_message: int | None


@dataclass(frozen=True)
class Recipient:
    """A voter still to be sent a broadcast."""

    user_id: int
    first_name: str
    attempts: int


@dataclass(frozen=True)
class BroadcastCounts:
    """Recipients of a broadcast by state."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """Every recipient."""
        return self.pending + self.sending + self.sent + self.blocked + self.failed

    @property
    def open(self) -> int:
        """Recipients not settled yet (pending or possibly in flight)."""
        return self.pending + self.sending


def _opt(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _broadcast(row: Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        text=row["text"],
        audience=Audience.parse(row["audience"]),
        send_at=from_db(row["send_at"]),
        state=row["state"],
        plan_key=row["plan_key"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
        started_at=_opt(row["started_at"]),
        finished_at=_opt(row["finished_at"]),
        report_chat=row["report_chat"],
        report_message=row["report_message"],
    )


class BroadcastQueries:
    """Reads and writes of broadcasts, broadcast_recipients and broadcast_drafts."""

    db: Database

    # -- broadcasts ------------------------------------------------------------------------

    async def create_broadcast(
        self,
        text: str,
        audience: Audience,
        send_at: datetime,
        now: datetime,
        created_by: int | None = None,
        report_chat: int | None = None,
    ) -> int:
        """Queue a broadcast for `send_at`; returns its id."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "INSERT INTO broadcasts (text, audience, send_at, state, created_by, created_at, "
                "report_chat) VALUES (?, ?, ?, 'scheduled', ?, ?, ?) RETURNING id",
                (text, str(audience), to_db(send_at), created_by, to_db(now), report_chat),
            )
            assert row is not None
            return int(row["id"])

    async def get_broadcast(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast, or None."""
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return _broadcast(row) if row else None

    async def list_broadcasts(self, limit: int = 20, offset: int = 0) -> list[Broadcast]:
        """The newest broadcasts (planned reminders included), newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        return [_broadcast(r) for r in rows]

    async def count_broadcasts(self) -> int:
        """How many broadcasts exist (planned reminders included)."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM broadcasts")
        return int(row["n"]) if row else 0

    async def broadcast_followup(self, broadcast_id: int, within: timedelta) -> tuple[int, int]:
        """Among those it reached: (opted out since it started, voted within `within` of it)."""
        b = await self.get_broadcast(broadcast_id)
        if b is None or b.started_at is None:
            return 0, 0
        start, end = to_db(b.started_at), to_db(b.started_at + within)
        row = await self.db.fetchone(
            "SELECT "
            "(SELECT COUNT(DISTINCT e.user_id) FROM transition_events e "
            " JOIN broadcast_recipients r ON r.user_id = e.user_id AND r.broadcast_id = ? "
            " WHERE r.state = 'sent' AND e.flow = 'reminders' AND e.dest = 'off' "
            " AND e.at >= ?) AS optouts, "
            "(SELECT COUNT(*) FROM progress p "
            " JOIN broadcast_recipients r ON r.user_id = p.user_id AND r.broadcast_id = ? "
            " WHERE r.state = 'sent' AND p.item = 'voted' AND p.done_at >= ? "
            " AND p.done_at < ?) AS voted",
            (broadcast_id, start, broadcast_id, start, end),
        )
        return (int(row["optouts"]), int(row["voted"])) if row else (0, 0)

    async def cancel_broadcast(self, broadcast_id: int, now: datetime) -> bool:
        """Stop a broadcast not finished yet; recipients not reached stay pending."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE broadcasts SET state = 'cancelled', finished_at = ? "
                "WHERE id = ? AND state IN ('planned', 'scheduled', 'sending')",
                (to_db(now), broadcast_id),
            )
            return cursor.rowcount == 1

    async def count_audience(self, audience: Audience) -> int:
        """How many voters the audience selects right now."""
        where, params = audience.where()
        row = await self.db.fetchone(f"SELECT COUNT(*) AS n FROM users u WHERE {where}", params)
        return int(row["n"]) if row else 0

    async def due_broadcasts(self, now: datetime) -> list[Broadcast]:
        """Scheduled broadcasts whose time has come, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts WHERE state = 'scheduled' AND send_at <= ? ORDER BY id",
            (to_db(now),),
        )
        return [_broadcast(r) for r in rows]

    async def start_broadcast(self, broadcast_id: int, now: datetime) -> int:
        """Pick the recipients (audience as of now) and start sending; returns how many."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "SELECT audience FROM broadcasts WHERE id = ? AND state = 'scheduled'",
                (broadcast_id,),
            )
            if row is None:
                return 0
            where, params = Audience.parse(row["audience"]).where()
            cursor = await conn.execute(
                "INSERT INTO broadcast_recipients (broadcast_id, user_id) "
                f"SELECT ?, u.user_id FROM users u WHERE {where} ORDER BY u.user_id "
                "ON CONFLICT DO NOTHING",
                (broadcast_id, *params),
            )
            await conn.execute(
                "UPDATE broadcasts SET state = 'sending', started_at = ? WHERE id = ?",
                (to_db(now), broadcast_id),
            )
            return cursor.rowcount

    async def active_broadcast(self) -> Broadcast | None:
        """The oldest broadcast being sent, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM broadcasts WHERE state = 'sending' ORDER BY id LIMIT 1"
        )
        return _broadcast(row) if row else None

    async def finish_broadcast(self, broadcast_id: int, now: datetime) -> None:
        """Record that every recipient of a broadcast is settled."""
        await self.db.execute(
            "UPDATE broadcasts SET state = 'done', finished_at = ? "
            "WHERE id = ? AND state = 'sending'",
            (to_db(now), broadcast_id),
        )

    async def set_report_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember the live progress message shown to the broadcaster."""
        await self.db.execute(
            "UPDATE broadcasts SET report_message = ? WHERE id = ?", (message_id, broadcast_id)
        )

    # -- recipients ------------------------------------------------------------------------

    async def recover_broadcasts(self) -> int:
        """After a restart: recipients left `sending` go back to pending (re-sent once)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE broadcast_recipients SET state = 'pending' WHERE state = 'sending'"
            )
            return cursor.rowcount

    async def next_recipients(
        self, broadcast_id: int, limit: int, now_epoch: float
    ) -> list[Recipient]:
        """Pending recipients whose retry time has come, in a stable order."""
        rows = await self.db.fetchall(
            "SELECT r.user_id, r.attempts, COALESCE(u.first_name, '') AS first_name "
            "FROM broadcast_recipients r LEFT JOIN users u ON u.user_id = r.user_id "
            "WHERE r.broadcast_id = ? AND r.state = 'pending' AND r.not_before <= ? "
            "ORDER BY r.user_id LIMIT ?",
            (broadcast_id, now_epoch, limit),
        )
        return [Recipient(r["user_id"], r["first_name"], r["attempts"]) for r in rows]

    async def mark_recipient(
        self,
        broadcast_id: int,
        user_id: int,
        state: str,
        attempts: int | None = None,
        not_before: float = 0.0,
        error: str | None = None,
    ) -> None:
        """Set a recipient's state (and retry bookkeeping); `blocked` also marks them inactive."""
        if state not in RECIPIENT_STATES:
            raise ValueError(f"bad recipient state {state!r}")
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE broadcast_recipients SET state = ?, attempts = COALESCE(?, attempts), "
                "not_before = ?, error = ? WHERE broadcast_id = ? AND user_id = ?",
                (state, attempts, not_before, error, broadcast_id, user_id),
            )
            if state == "blocked":
                await conn.execute("UPDATE users SET active = 0 WHERE user_id = ?", (user_id,))

    async def broadcast_counts(self, broadcast_id: int) -> BroadcastCounts:
        """Recipients of a broadcast by state."""
        rows = await self.db.fetchall(
            "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = ? "
            "GROUP BY state",
            (broadcast_id,),
        )
        return BroadcastCounts(**{r["state"]: r["n"] for r in rows})

    # -- calendar plan ---------------------------------------------------------------------

    async def plan_reminder(
        self, key: str, text: str, audience: Audience, send_at: datetime, now: datetime
    ) -> bool:
        """Add a calendar reminder (planned, not enabled) unless that key exists."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO broadcasts (text, audience, send_at, state, plan_key, created_at) "
                "VALUES (?, ?, ?, 'planned', ?, ?) ON CONFLICT(plan_key) DO NOTHING",
                (text, str(audience), to_db(send_at), key, to_db(now)),
            )
            return cursor.rowcount == 1

    async def planned_reminders(self) -> list[Broadcast]:
        """The calendar reminders, in time order."""
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts WHERE plan_key IS NOT NULL ORDER BY send_at, id"
        )
        return [_broadcast(r) for r in rows]

    async def edit_reminder(
        self,
        key: str,
        text: str | None = None,
        audience: Audience | None = None,
        send_at: datetime | None = None,
    ) -> bool:
        """Change a calendar reminder that has not started; False if none matched."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE broadcasts SET text = COALESCE(?, text), "
                "audience = COALESCE(?, audience), send_at = COALESCE(?, send_at) "
                "WHERE plan_key = ? AND state IN ('planned', 'scheduled')",
                (
                    text,
                    None if audience is None else str(audience),
                    None if send_at is None else to_db(send_at),
                    key,
                ),
            )
            return cursor.rowcount == 1

    async def enable_reminder(self, key: str, enabled: bool) -> bool:
        """Schedule (or un-schedule) a calendar reminder that has not started.

        A reminder cancelled before it started can be scheduled again.
        """
        if enabled:
            sql = (
                "UPDATE broadcasts SET state = 'scheduled', finished_at = NULL WHERE plan_key = ? "
                "AND (state = 'planned' OR (state = 'cancelled' AND started_at IS NULL))"
            )
        else:
            sql = (
                "UPDATE broadcasts SET state = 'planned' "
                "WHERE plan_key = ? AND state = 'scheduled'"
            )
        async with self.db.transaction() as conn:
            cursor = await conn.execute(sql, (key,))
            return cursor.rowcount == 1

    # -- composer drafts -------------------------------------------------------------------

    # Who is in the composer, kept in memory: every text message asks, and only the bot
    # process writes drafts (on a database shared by processes, `db.shared`, we query).
    _drafting: set[int] | None = None

    async def _composing(self) -> set[int]:
        if self._drafting is None:
            rows = await self.db.fetchall("SELECT user_id FROM broadcast_drafts")
            self._drafting = {r["user_id"] for r in rows}
        return self._drafting

    async def get_draft(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        """A broadcaster's composer step and data, or None."""
        if not self.db.shared and user_id not in await self._composing():
            return None
        row = await self.db.fetchone(
            "SELECT step, data FROM broadcast_drafts WHERE user_id = ?", (user_id,)
        )
        return (row["step"], json.loads(row["data"])) if row else None

    async def save_draft(
        self, user_id: int, step: str, data: dict[str, Any], now: datetime
    ) -> None:
        """Record where a broadcaster is in the composer."""
        await self.db.execute(
            "INSERT INTO broadcast_drafts (user_id, step, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET step = excluded.step, data = excluded.data, "
            "updated_at = excluded.updated_at",
            (user_id, step, json.dumps(data), to_db(now)),
        )
        (await self._composing()).add(user_id)

    async def delete_draft(self, user_id: int) -> None:
        """Leave the composer."""
        await self.db.execute("DELETE FROM broadcast_drafts WHERE user_id = ?", (user_id,))
        (await self._composing()).discard(user_id)
