"""One bot process on PostgreSQL against one on SQLite: same harness, same voters, same run.

    .venv/bin/python -m bench.pg_bench [--voters 500] [--steps 10] [--seed-voters 100000]
                                       [--mode polling|webhook]

Starts a throwaway PostgreSQL cluster (tests/fakes/postgres.py: initdb + pg_ctl, fsync off),
copies the seeded SQLite store into it with the code of `votebot db copy`, then drives the real
`votebot run` process through the local fake Bot API, first on the SQLite file, then on the
PostgreSQL database. Prints updates/s, reply latency p50/p95/p99 and the bot's CPU and peak
RSS for both, and the ratio. On 2 cores the database server, the bot and the harness share
the machine: this is a correctness and order-of-magnitude check, not a capacity figure.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, Run, Voters, seeded_copy
from bench.load_bench import machine
from store import open_store
from store.copy import copy_store
from tests.fakes.postgres import start_cluster


async def _copy_to_postgres(sqlite: Path, url: str) -> None:
    source, target = await open_store(sqlite), await open_store(url)
    try:
        await copy_store(source, target)
    finally:
        await source.close()
        await target.close()


async def measure(backend: str, url: str | None, args: argparse.Namespace) -> tuple[Run, str]:
    """One run on a fresh copy of the seeded store."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
        workdir = Path(tmp)
        sqlite = seeded_copy(workdir, args.seed_voters)
        api = AsyncFakeBotAPI(TOKEN)
        base = await api.start()
        bot = BotProcess("votebot", args.mode, base, workdir)
        if url is not None:
            await _copy_to_postgres(sqlite, url)
            bot.env["VOTEBOT_DB"] = url
        bot.start()
        try:
            await bot.ready(api)
            run = await Voters(api, args.voters, args.steps, mode=args.mode, seed=1).go()
        finally:
            await bot.stop()
            await api.close()
        logs = bot.logs()
        problems = [*api.stats.errors[:3]]
        if run.timeouts:
            problems.append(f"{run.timeouts} updates never answered")
        if "Traceback" in logs or " ERROR " in logs:
            problems.append(f"errors in the bot's log: {logs[-400:]}")
        note = f"bot CPU {bot.cpu:.0f} s, peak RSS {bot.peak_rss / 2**20:.0f} MB"
        return run, note + "".join(f"; PROBLEM: {p}" for p in problems)


async def main(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    print(
        f"{args.voters} voters × {args.steps} updates, {args.mode}; store seeded with "
        f"{args.seed_voters:,} voters"
    )
    cluster = start_cluster()
    try:
        import asyncpg

        admin = await asyncpg.connect(cluster.url())
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        results = {}
        for backend, url in (("sqlite", None), ("postgresql", cluster.url("bench"))):
            run, note = await measure(backend, url, args)
            results[backend] = run
            print(f"{backend:10} {run.summary()}; {note}")
    finally:
        cluster.stop()
    sqlite, postgres = results["sqlite"], results["postgresql"]
    ratio = postgres.rate / sqlite.rate if sqlite.rate else 0.0
    print(f"PostgreSQL / SQLite throughput: {ratio:.2f} ×")
    failed = any(r.timeouts for r in results.values())
    return 1 if failed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--steps", type=int, default=10, help="updates sent by each voter")
    parser.add_argument("--seed-voters", type=int, default=100_000)
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
