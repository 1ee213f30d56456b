"""Two webhook replicas on one PostgreSQL behind a round-robin proxy; one killed -9 mid-run.

    .venv/bin/python -m bench.replica_test [--voters 200] [--steps 8] [--recipients 200]
                                           [--rate 20]

Starts a throwaway PostgreSQL cluster (tests/fakes/postgres.py), two real `votebot run
--webhook` processes sharing its database, and a round-robin TCP proxy in front of them
(tests/fakes/proxy.py: each new connection goes to the next replica, a refused one to the
other). Voters walk the guide through the proxy (the bench harness, the fake Bot API over
HTTP); a calendar reminder to `--recipients` opted-in voters, planned by both, is enabled
meanwhile; once it is sending, the
replica holding the broadcast lease is killed -9, then restarted.

Checks, from the fake Telegram and the database: every update handled and its replies recorded
as sent; answers repeated only inside the window that cannot be closed (updates committed but
not recorded as sent at the kill — counted over both replicas, so an upper bound); every
voter's last message shows their committed step (each voter waits for an answer before the
next step, so their replies came in order); each calendar reminder planned once; the reminder
sent to every recipient once (a repeat only for a recipient in flight at the kill) and never
faster than the configured rate over any 5 seconds (give or take 5 sends: the pacer's
one-slot burst, and sends that queued behind a busy event loop reaching Telegram together);
no error in either replica's log.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.checks import Audit, audit_rows
from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import NOW, TOKEN, BotProcess, Run, Voters
from bot.leases import utc_now
from bot.settings import PARIS
from store import Audience, Conversation, StepCommit, open_store
from tests.fakes.postgres import start_cluster
from tests.fakes.proxy import RoundRobinProxy

BROADCAST = "Rappel de test : le vote en ligne est ouvert."
RECIPIENT_BASE = 20_000_000  # the broadcast's recipients, away from the walking voters
WINDOW = 5.0  # seconds over which the broadcast rate is checked
JITTER = 5  # sends: the pacer's one-slot burst, and sends arriving together on a loaded machine


@dataclass
class Outcome:
    """What one run saw."""

    run: Run
    audit: Audit
    window: int = 0  # updates committed but not recorded as sent at the kill
    in_flight: int = 0  # broadcast recipients being sent at the kill
    recipients: int = 0
    delivered: int = 0
    repeated: int = 0  # broadcast messages beyond one per recipient
    lost: int = 0  # recipients never sent the broadcast
    open: int = 0  # recipients not recorded as sent
    peak_rate: int = 0  # most broadcast sends in any WINDOW seconds
    takeover: float = 0.0  # seconds between the kill and the next broadcast send
    routed: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            self.run.summary(),
            *self.audit.lines(),
            f"window (committed, not recorded as sent, at the kill, both replicas): "
            f"{self.window} → at most {self.window} answers may repeat; repeated: "
            f"{self.audit.duplicates}",
            f"broadcast: {self.delivered} sent to {self.recipients} recipients, repeated "
            f"{self.repeated} (in flight at the kill: {self.in_flight}), lost {self.lost}, "
            f"not recorded as sent {self.open}; at most {self.peak_rate} sends in {WINDOW:.0f} s; "
            f"next send {self.takeover:.1f} s after the kill",
            f"connections routed per replica: {self.routed}",
        ]


async def _seed_recipients(url: str, count: int) -> None:
    store = await open_store(url)  # migrates the empty database
    now = datetime.fromisoformat(NOW).replace(tzinfo=PARIS)
    try:
        for i in range(count):
            commit = StepCommit(
                Conversation(RECIPIENT_BASE + i, "menu", "main", {}),
                first_name=f"Dest{i}",
                profile={"reminders": True},  # type: ignore[dict-item]
            )
            await store.commit_step(commit, now)
    finally:
        await store.close()


async def _fetch(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def run_replicas(url: str, args: argparse.Namespace, workdir: Path) -> Outcome:
    """The run on the (empty) database at `url`."""
    await _seed_recipients(url, args.recipients)
    api = AsyncFakeBotAPI(TOKEN)
    base = await api.start()
    bots = []
    for i in range(2):
        folder = workdir / f"replica{i + 1}"
        folder.mkdir()
        bot = BotProcess("votebot", "webhook", base, folder)
        bot.env.update(VOTEBOT_DB=url, VOTEBOT_BROADCAST_RATE=str(args.rate))
        bots.append(bot)
        bot.start()
        await bot.ready(api)
    proxy = RoundRobinProxy([("127.0.0.1", bot.port) for bot in bots])
    api.webhook = {"url": f"http://127.0.0.1:{await proxy.start()}/hook"}
    voters = Voters(api, args.voters, args.steps, mode="webhook", seed=args.seed,
                    answer_timeout=120, pause=args.pause)  # fmt: skip
    walk = asyncio.create_task(voters.go())
    store = await open_store(url)
    outcome: Outcome
    try:
        await asyncio.sleep(args.broadcast_after)
        now = datetime.fromisoformat(NOW).replace(tzinfo=PARIS)
        # A calendar reminder, planned by both replicas (as each plans the default calendar at
        # start), then enabled: it must go out once.
        other = await open_store(url)
        try:
            for replica in (store, other):
                await replica.plan_reminder("replica_test", BROADCAST, Audience(), now, now)
        finally:
            await other.close()
        assert await store.enable_reminder("replica_test", True)
        bid = next(b.id for b in await store.planned_reminders() if b.plan_key == "replica_test")

        def broadcast_sends() -> list[tuple[float, int]]:
            return [(t, chat) for t, chat, text in api.sends if BROADCAST in text]

        started = time.monotonic()
        while len(broadcast_sends()) < args.recipients // 3:
            assert time.monotonic() - started < 60, "the broadcast never started"
            await asyncio.sleep(0.05)
        holder = await store.lease_holder("broadcast", utc_now()) or ""
        victim = next((b for b in bots if b.proc and f":{b.proc.pid}:" in holder), bots[0])
        problems_early = ["the walk ended before the kill: lengthen it"] if walk.done() else []
        victim.kill9()
        killed = time.monotonic()
        window = int(
            (await _fetch(url, "SELECT COUNT(*) FROM processed_updates WHERE replied_at IS NULL"))[
                0
            ][0]
        )
        in_flight = (await store.broadcast_counts(bid)).sending
        print(f"kill -9 of the broadcast lease holder (replica {bots.index(victim) + 1})")
        victim.start()
        await victim.ready(api)
        run = await walk
        while await store.active_broadcast() is not None:
            assert time.monotonic() - killed < 120, "the broadcast never finished"
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # re-sent replies still on their way
        counts = await store.broadcast_counts(bid)
        alive = all(b.alive() for b in bots)
    finally:
        await store.close()
        for bot in bots:
            await bot.stop()
        await proxy.close()
        await api.close()
    rows = dict(await _fetch(url, "SELECT update_id, replied_at FROM processed_updates"))
    states = {
        int(uid): (str(flow), str(state))
        for uid, flow, state in await _fetch(url, "SELECT user_id, flow, state FROM conversations")
    }
    recipients = {
        int(uid)
        for (uid,) in await _fetch(
            url, "SELECT user_id FROM broadcast_recipients WHERE broadcast_id = $1", bid
        )
    }
    planned_twice = await _fetch(
        url,
        "SELECT plan_key FROM broadcasts WHERE plan_key IS NOT NULL "
        "GROUP BY plan_key HAVING COUNT(*) > 1",
    )
    sends = broadcast_sends()
    per_chat = collections.Counter(chat for _, chat in sends)
    times = sorted(t for t, _ in sends)
    # Most sends in any WINDOW seconds (sends arrive with the jitter of a loaded machine).
    peak = max((bisect.bisect_left(times, t + WINDOW) - i for i, t in enumerate(times)), default=0)
    after = [t for t, _ in sends if t > killed]
    outcome = Outcome(
        run=run,
        audit=audit_rows(
            {int(k): v for k, v in rows.items()},
            states,
            api,
            voters,  # type: ignore[call-overload]
        ),
        window=window,
        in_flight=in_flight,
        recipients=len(recipients),
        delivered=len(sends),
        repeated=sum(n - 1 for n in per_chat.values()),
        lost=len(recipients - set(per_chat)),
        open=counts.open,
        peak_rate=peak,
        takeover=(min(after) - killed) if after else float("nan"),
        routed=proxy.connections,
    )
    logs = "".join(b.logs() for b in bots)
    problems = outcome.problems
    problems += problems_early
    result = outcome.audit
    if run.timeouts or result.never_recorded or result.unconfirmed:
        problems.append("some update was never answered")
    if result.duplicates > window:
        problems.append("more repeated answers than the unavoidable window explains")
    if result.off_step:
        problems.append("some voter does not continue from their committed step")
    if len(recipients) < args.recipients or outcome.lost or outcome.open:
        problems.append("the broadcast lost recipients")
    if outcome.repeated > in_flight:
        problems.append("the broadcast repeated more than what was in flight at the kill")
    if outcome.peak_rate > WINDOW * args.rate + JITTER:
        problems.append(f"the broadcast went faster than {args.rate}/s")
    if planned_twice:
        problems.append(f"calendar reminders planned twice: {planned_twice}")
    if not alive:
        problems.append("a replica was not running at the end")
    if "Traceback" in logs or " ERROR " in logs:
        problems.append(f"errors in a replica's log: {logs[-600:]}")
    if api.stats.errors:
        problems.append(f"Bot API misuse: {api.stats.errors[:3]}")
    if min(proxy.connections) == 0:
        problems.append("the proxy sent nothing to one replica")
    return outcome


async def main(args: argparse.Namespace) -> int:
    cluster = start_cluster()
    try:
        import asyncpg

        admin = await asyncpg.connect(cluster.url())
        await admin.execute("CREATE DATABASE replicas")
        await admin.close()
        with tempfile.TemporaryDirectory(prefix="replicas-") as tmp:
            outcome = await run_replicas(cluster.url("replicas"), args, Path(tmp))
    finally:
        cluster.stop()
    print(f"{args.voters} voters × {args.steps} updates through 2 replicas, one kill -9")
    for line in outcome.lines():
        print(line)
    print("PASS" if not outcome.problems else "FAIL: " + "; ".join(outcome.problems))
    return 1 if outcome.problems else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="VOTEBOT_BROADCAST_RATE")
    parser.add_argument("--pause", type=float, default=1.0, help="voters' mean pause, s")
    parser.add_argument("--broadcast-after", type=float, default=1.0, help="seconds")
    parser.add_argument("--seed", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
