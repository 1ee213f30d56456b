"""Broadcast benchmark: N opted-in voters, the real `votebot run` process, a fake Bot API that
enforces Telegram's flood limits with 429 answers; then the same with a kill -9 at about half
way and a restart.

    .venv/bin/python bench/broadcast_bench.py            # 10,000 voters at 25 msg/s (~15 min)
    .venv/bin/python bench/broadcast_bench.py --voters 500 --rate 25   # a quick look

Reports the achieved rate ÷ configured rate (target ≥ 0.95), duplicates (0 expected, or at
most the recipients in flight at the kill) and losses (0).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datetime import datetime  # noqa: E402

from bot.settings import PARIS  # noqa: E402
from store import Conversation, StepCommit, open_store  # noqa: E402
from tests.fakes.botapi import FakeBotAPI, RateLimit  # noqa: E402
from tests.fakes.http import FakeBotAPIServer  # noqa: E402

TOKEN = "123456:BENCH"
NOW = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)
TEXT = "Bonjour {prenom}, le vote ferme le {date_cloture} : /menu pour être guidé."


async def seed(db: Path, voters: int) -> None:
    """N opted-in voters (ids 1..N) in a fresh database."""
    store = await open_store(db)
    try:
        for uid in range(1, voters + 1):
            await store.commit_step(
                StepCommit(
                    Conversation(uid, "menu", "main", {}),
                    first_name=f"V{uid}",
                    profile={"reminders": True},
                ),
                NOW,
            )
    finally:
        await store.close()


async def sending_rows(db: Path, broadcast_id: int) -> int:
    """Recipients left `sending` (the documented duplicate window) after a kill."""
    store = await open_store(db)
    try:
        return (await store.broadcast_counts(broadcast_id)).sending
    finally:
        await store.close()


def votebot(env: dict[str, str], workdir: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def run(voters: int, rate: float, kill_at: float | None) -> dict[str, float]:
    """One broadcast to `voters` voters; kill -9 the bot after `kill_at` of them if given."""
    workdir = Path(tempfile.mkdtemp(prefix="votebot-bench-"))
    db = workdir / "votebot.sqlite3"
    asyncio.run(seed(db, voters))
    api = FakeBotAPI(rate_limit=RateLimit(per_second=30, per_chat=1.0, retry_after=1))
    with FakeBotAPIServer(api, token=TOKEN) as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "VOTEBOT_DB": str(db),
            "VOTEBOT_NOW": NOW.isoformat(),
            "VOTEBOT_LOG_LEVEL": "WARNING",
            "VOTEBOT_BROADCAST_RATE": str(rate),
        }
        broadcast_id = int(votebot(env, workdir, "broadcast", "--text", TEXT))
        log = (workdir / "bot.log").open("a")

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def chats() -> int:
            return len({c.params["chat_id"] for c in api.delivered})

        started = time.monotonic()
        bot = start()
        in_flight = 0
        try:
            if kill_at is not None:
                api.wait_for(lambda: chats() >= voters * kill_at, timeout=voters / rate * 3 + 60)
                bot.send_signal(signal.SIGKILL)
                bot.wait()
                in_flight = asyncio.run(sending_rows(db, broadcast_id))
                bot = start()
            api.wait_for(lambda: chats() >= voters, timeout=voters / rate * 3 + 60)
            time.sleep(1.0)  # anything sent twice would show up now
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(timeout=30)
        wall = time.monotonic() - started
    times = [c.at for c in api.delivered]
    per_chat = collections.Counter(int(c.params["chat_id"]) for c in api.delivered)
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    restart_gap = gaps[-1] if kill_at is not None and gaps else 0.0
    sending_time = times[-1] - times[0] - restart_gap
    achieved = (len(times) - 1) / sending_time if sending_time > 0 else 0.0
    return {
        "voters": voters,
        "configured": rate,
        "achieved": achieved,
        "ratio": achieved / rate,
        "duplicates": sum(n - 1 for n in per_chat.values()),
        "losses": voters - len(per_chat),
        "in_flight_at_kill": in_flight,
        "http_429": api.rate_limit.rejected if api.rate_limit else 0,
        "restart_gap_s": restart_gap,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction sent before kill -9")
    parser.add_argument("--only", choices=["plain", "kill"], help="run one scenario only")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    scenarios = [("plain", None), ("kill -9 + restart", args.kill_at)]
    if args.only == "plain":
        scenarios = scenarios[:1]
    elif args.only == "kill":
        scenarios = scenarios[1:]
    ok = True
    for name, kill_at in scenarios:
        r = run(args.voters, args.rate, kill_at)
        print(
            f"{name}: {r['voters']} voters, achieved {r['achieved']:.2f} msg/s of "
            f"{r['configured']:.0f} configured (ratio {r['ratio']:.3f}), duplicates "
            f"{r['duplicates']} (in flight at kill: {r['in_flight_at_kill']}), losses "
            f"{r['losses']}, 429 answers {r['http_429']}, restart gap {r['restart_gap_s']:.1f} s, "
            f"wall {r['wall_s']:.0f} s"
        )
        ok &= r["ratio"] >= 0.95 and r["losses"] == 0
        ok &= r["duplicates"] <= r["in_flight_at_kill"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
