"""The update-independent core: load state → fire the event on its flow → save → replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot import callbacks
from bot.election import Election
from bot.flows import Context, Flows, Reply
from store import Conversation, StepCommit, Store, TransitionEvent, TurnState, User
from store.support import TranscriptLine

Kind = Literal["command", "button", "text", "secret", "unsupported"]
# A text handler reads what the voter typed at a step that accepts text; it may update
# ctx.data (results for the template) and returns the trigger to fire, or None.
TextHandler = Callable[[str, Context], Awaitable[str | None]]
# The free-text router (bot/routing.py): text and context → where the voter goes.
Router = Callable[[str, Context], Awaitable["Route | None"]]
# Called with the trigger when a button of a given step ("flow.state") is pressed.
PressHook = Callable[[str, Context], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """Where free text leads: a step to jump to, or extra replies (suggestions, fallback)."""

    goto: str | None = None  # "flow" or "flow.state"
    replies: tuple[Reply, ...] = ()
    trigger: str = "text"


HOME = ("menu", "main")
# Turns at once between storing their replies and recording them as sent: the bound of the
# one window where a kill can make a voter see a reply twice (whatever the worker has in hand).
REPLYING = 64
HISTORY_LIMIT = 30


@dataclass(frozen=True)
class Incoming:
    """One thing a voter did, whatever the front end: a command, a button, text, other."""

    user_id: int
    kind: Kind
    value: str = ""
    first_name: str = ""
    update_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What the front end must send; `duplicate` means the update was already answered."""

    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    effects: tuple[str, ...] = ()  # front-end effects of the steps reached (e.g. "handoff")


@dataclass
class _Turn:
    """The mutable working state of one update while it is handled."""

    user_id: int
    flow: str
    state: str
    data: dict[str, Any]
    events: list[TransitionEvent] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)


class Engine:
    """Runs flows for voters; every front end (Telegram, terminal) goes through it."""

    def __init__(
        self,
        store: Store,
        election: Election,
        flows: Flows,
        clock: Callable[[], datetime],
        text_handlers: Mapping[str, TextHandler] | None = None,
        router: Router | None = None,
        features: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.election = election
        self.flows = flows
        self.clock = clock
        self.text_handlers = dict(text_handlers or {})
        self.router = router
        self.features = features  # optional services on in this deployment (e.g. "support")
        self.commands: dict[str, str] = {}  # extra /commands → "flow" or "flow.state"
        self.press_hooks: dict[str, PressHook] = {}  # "flow.state" → hook (e.g. feedback)
        self.start: Callable[[Context], str] = lambda ctx: "menu.welcome"
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}
        self.replying = asyncio.Semaphore(REPLYING)  # held by a turn from commit to "sent"

    @asynccontextmanager
    async def lock(self, user_id: int) -> AsyncIterator[None]:
        """Serialise one voter's updates (handle and send) while others run concurrently."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        self._waiters[user_id] = self._waiters.get(user_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[user_id] -= 1
            if not self._waiters[user_id]:
                del self._waiters[user_id]
                del self._locks[user_id]

    async def handle(self, msg: Incoming, state: TurnState | None = None) -> Outcome:
        """Handle one incoming event; the new state is committed before replies are returned.
        `state`: the voter's turn state if already read (with the update's lease)."""
        if state is None:
            state = await self.store.load_turn(msg.user_id, msg.update_id)
        seen = state.processed
        if seen is not None:
            if seen.replied:
                return Outcome(duplicate=True)
            return Outcome([Reply.from_dict(r) for r in seen.replies])
        now = self.clock()
        user, conv = state.user, state.conversation
        if conv is None or not self.flows.has(conv.flow, conv.state):
            conv = Conversation(msg.user_id, "menu", "welcome", {})
        progress = set(state.progress)
        turn = _Turn(msg.user_id, conv.flow, conv.state, dict(conv.data))
        ctx = self._context(now, user, turn.data, progress, msg.user_id)
        before_profile, before_progress = dict(ctx.profile), set(progress)
        await self._dispatch(turn, msg, ctx)
        commit = StepCommit(
            conversation=Conversation(msg.user_id, turn.flow, turn.state, turn.data),
            events=tuple(turn.events),
            update_id=msg.update_id,
            replies=[r.to_dict() for r in turn.replies],
            first_name=msg.first_name,
            profile={k: v for k, v in ctx.profile.items() if before_profile.get(k) != v},
            progress_done=frozenset(ctx.progress - before_progress),
            progress_undone=frozenset(before_progress - ctx.progress),
        )
        if not await self.store.commit_step(commit, now):
            return Outcome(duplicate=True)
        return Outcome(turn.replies, effects=tuple(turn.effects))

    async def replied(
        self, update_id: int | None, transcript: Sequence[TranscriptLine] = ()
    ) -> None:
        """Record that the replies of an update were delivered, with its transcript lines
        (one transaction); without an update id, only the lines are stored."""
        if update_id is not None:
            await self.store.mark_replied(update_id, self.clock(), transcript)
        elif transcript:
            await self.store.record_messages(transcript)

    # -- dispatching -----------------------------------------------------------------------

    async def _dispatch(self, turn: _Turn, msg: Incoming, ctx: Context) -> None:
        if msg.kind == "command":
            self._command(turn, msg.value, ctx)
        elif msg.kind == "button":
            await self._button(turn, msg.value, ctx)
        elif msg.kind == "text":
            await self._text(turn, msg.value, ctx)
        elif msg.kind == "secret":
            turn.replies.append(
                Reply("common/secret_removed.html", {"deleted": msg.value == "deleted"})
            )
            if self.flows[turn.flow].step(turn.state).transient:  # not the fallback again
                self._move(turn, *HOME, "secret", ctx, remember=False)
            turn.replies.append(self._step_reply(turn, ctx))
        else:
            turn.replies.append(Reply("common/unsupported.html", {"what": msg.value}))
            turn.replies.append(self._step_reply(turn, ctx))

    async def _text(self, turn: _Turn, text: str, ctx: Context) -> None:
        step = self.flows[turn.flow].step(turn.state)
        if step.text is not None:
            trigger = await self.text_handlers[step.text](text, ctx)
            if trigger is not None:
                dest = self.flows.machines[turn.flow].fire(turn.state, trigger, ctx)
                if dest is not None:
                    self._move(turn, turn.flow, dest, trigger, ctx)
                    turn.replies.append(self._step_reply(turn, ctx))
                    return
        route = await self.router(text, ctx) if self.router is not None else None
        if route is None:
            turn.replies.append(Reply("common/not_understood.html"))
            turn.replies.append(self._step_reply(turn, ctx))
            return
        turn.replies.extend(route.replies)
        if route.goto is not None:
            flow, _, state = route.goto.partition(".")
            self._move(turn, flow, state or self.flows[flow].initial, route.trigger, ctx)
            turn.replies.append(self._step_reply(turn, ctx))

    def _command(self, turn: _Turn, name: str, ctx: Context) -> None:
        if name == "start":
            turn.data.pop("history", None)
            flow, _, state = self.start(ctx).partition(".")
            self._move(turn, flow, state, "start", ctx, remember=False)
        elif name == "menu":
            self._move(turn, *HOME, "menu", ctx, remember=False)
            turn.data.pop("history", None)
        elif name == "resume":
            pass
        elif name in ("aide", "help"):
            turn.replies.append(Reply("common/help.html"))
            turn.replies.append(self._step_reply(turn, ctx))
            return
        elif name in self.commands:
            flow, _, state = self.commands[name].partition(".")
            self._move(turn, flow, state or self.flows[flow].initial, name, ctx)
        else:
            turn.replies.append(Reply("common/unknown_command.html", {"command": name[:32]}))
        turn.replies.append(self._step_reply(turn, ctx))

    async def _button(self, turn: _Turn, data: str, ctx: Context) -> None:
        press = callbacks.decode(data)
        current = (press.flow, press.state) == (turn.flow, turn.state) if press else False
        if press is None or press.version != self.flows.version or not current:
            turn.replies.append(Reply("common/expired.html"))
            turn.replies.append(self._step_reply(turn, ctx))
            return
        trigger = press.trigger
        turn.data.pop("misunderstood", None)
        hook = self.press_hooks.get(f"{turn.flow}.{turn.state}")
        if hook is not None:
            await hook(trigger, ctx)
        if trigger == "back":
            self._back(turn, ctx)
        elif trigger == "menu":
            turn.data.pop("history", None)
            self._move(turn, *HOME, "menu", ctx, remember=False)
        elif trigger in self.flows[turn.flow].step(turn.state).goto:
            flow, _, state = self.flows[turn.flow].step(turn.state).goto[trigger].partition(".")
            self._move(turn, flow, state or self.flows[flow].initial, trigger, ctx)
        else:
            dest = self.flows.machines[turn.flow].fire(turn.state, trigger, ctx)
            if dest is None:
                turn.replies.append(Reply("common/expired.html"))
            else:
                self._move(turn, turn.flow, dest, trigger, ctx)
        turn.replies.append(self._step_reply(turn, ctx))

    def _back(self, turn: _Turn, ctx: Context) -> None:
        history: list[str] = turn.data.get("history", [])
        while history:
            flow, _, state = history.pop().partition(".")
            if self.flows.has(flow, state):
                self._move(turn, flow, state, "back", ctx, remember=False)
                return
        self._move(turn, *HOME, "back", ctx, remember=False)

    def _move(
        self,
        turn: _Turn,
        flow: str,
        state: str,
        trigger: str,
        ctx: Context,
        remember: bool = True,
    ) -> None:
        transient = self.flows.has(turn.flow, turn.state) and (
            self.flows[turn.flow].step(turn.state).transient
        )
        if remember and not transient and (flow, state) != (turn.flow, turn.state):
            history = turn.data.setdefault("history", [])
            history.append(f"{turn.flow}.{turn.state}")
            del history[:-HISTORY_LIMIT]
        source = turn.state if flow == turn.flow else f"{turn.flow}.{turn.state}"
        turn.events.append(
            TransitionEvent(turn.user_id, self.clock(), flow, source, state, trigger)
        )
        turn.flow, turn.state = flow, state
        step = self.flows[flow].step(state)
        for action in step.enter:
            action(ctx)
        if step.effect is not None:
            turn.effects.append(step.effect)

    # -- replies ---------------------------------------------------------------------------

    def _step_reply(self, turn: _Turn, ctx: Context) -> Reply:
        step = self.flows[turn.flow].step(turn.state)
        template = f"{turn.flow}/{turn.state}.html"
        buttons = step.order(ctx) if step.order is not None else step.buttons
        shown = [t for t in buttons if t not in step.show or step.show[t](ctx)]
        rows: list[tuple[str, ...]] = [
            tuple(shown[i : i + step.columns]) for i in range(0, len(shown), step.columns)
        ]
        nav = []
        if turn.data.get("history"):
            nav.append("back")
        if turn.flow != "menu":
            nav.append("menu")
        if nav:
            rows.append(tuple(nav))
        context = {
            "data": {k: v for k, v in turn.data.items() if k != "history"},
            "profile": dict(ctx.profile),
            "progress": sorted(ctx.progress),
        }
        return Reply(template, context, tuple(rows), turn.flow, turn.state)

    def callback_data(self, reply: Reply, trigger: str) -> str:
        """The callback data of one button of a reply."""
        assert reply.flow and reply.state
        return callbacks.encode(self.flows.version, reply.flow, reply.state, trigger)

    def _context(
        self,
        now: datetime,
        user: User | None,
        data: dict[str, Any],
        progress: set[str],
        user_id: int | None = None,
    ) -> Context:
        profile = {
            "first_name": user.first_name if user else "",
            "category": user.category if user else None,
            "departement": user.departement if user else None,
            "reminders": user.reminders if user else None,
        }
        phase = self.election.phase(now).value
        return Context(
            now=now,
            phase=phase,
            profile=profile,
            data=data,
            progress=progress,
            user_id=user_id,
            features=self.features,
        )
