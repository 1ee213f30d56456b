"""Throughput of two webhook replicas on PostgreSQL against one process on SQLite (and one on
PostgreSQL), same harness, same run.

    .venv/bin/python -m bench.replica_bench [--voters 300] [--steps 6] [--seed-voters 0]

Saturated voters (each sends its next update as soon as it is answered) call the webhook:
directly for one process, through the round-robin proxy (tests/fakes/proxy.py) for two. The
PostgreSQL cluster, both replicas, the proxy and the harness share the machine's cores: on a
2-core machine this measures the cost of sharing the state, not what a second machine adds.
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
from tests.fakes.proxy import RoundRobinProxy


async def measure(replicas: int, url: str | None, args: argparse.Namespace) -> tuple[Run, str]:
    """One saturated run against `replicas` webhook processes on `url` (None: SQLite)."""
    with tempfile.TemporaryDirectory(prefix="replica-bench-") as tmp:
        workdir = Path(tmp)
        sqlite = seeded_copy(workdir, args.seed_voters)
        if url is not None and sqlite.exists():
            source, target = await open_store(sqlite), await open_store(url)
            try:
                await copy_store(source, target)
            finally:
                await source.close()
                await target.close()
        api = AsyncFakeBotAPI(TOKEN)
        base = await api.start()
        bots: list[BotProcess] = []
        proxy: RoundRobinProxy | None = None
        try:
            for i in range(replicas):
                folder = workdir / f"replica{i + 1}"
                folder.mkdir()
                if url is None and sqlite.exists():
                    (folder / "votebot.sqlite3").write_bytes(sqlite.read_bytes())
                bot = BotProcess("votebot", "webhook", base, folder)
                if url is not None:
                    bot.env["VOTEBOT_DB"] = url
                bots.append(bot)
                bot.start()
                await bot.ready(api)
            if replicas > 1:
                proxy = RoundRobinProxy([("127.0.0.1", b.port) for b in bots])
                api.webhook = {"url": f"http://127.0.0.1:{await proxy.start()}/hook"}
            run = await Voters(api, args.voters, args.steps, mode="webhook", seed=1).go()
        finally:
            for bot in bots:
                await bot.stop()
            if proxy is not None:
                await proxy.close()
            await api.close()
        logs = "".join(b.logs() for b in bots)
        problems = [*api.stats.errors[:3]]
        if run.timeouts:
            problems.append(f"{run.timeouts} updates never answered")
        if "Traceback" in logs or " ERROR " in logs:
            problems.append(f"errors in a log: {logs[-400:]}")
        cpu = sum(b.cpu for b in bots)
        note = f"bot CPU {cpu:.0f} s, peak RSS {max(b.peak_rss for b in bots) / 2**20:.0f} MB"
        return run, note + "".join(f"; PROBLEM: {p}" for p in problems)


async def main(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    print(f"{args.voters} voters × {args.steps} updates, webhook, saturated")
    cluster = start_cluster()
    results: dict[str, Run] = {}
    try:
        import asyncpg

        admin = await asyncpg.connect(cluster.url())
        await admin.execute("CREATE DATABASE one")
        await admin.execute("CREATE DATABASE two")
        await admin.close()
        for label, replicas, url in (
            ("1 × SQLite", 1, None),
            ("1 × PostgreSQL", 1, cluster.url("one")),
            ("2 × PostgreSQL", 2, cluster.url("two")),
        ):
            run, note = await measure(replicas, url, args)
            results[label] = run
            print(f"{label:15} {run.summary()}; {note}")
    finally:
        cluster.stop()
    base = results["1 × SQLite"].rate
    for label, run in results.items():
        print(f"{label}: {run.rate / base if base else 0:.2f} × one SQLite process")
    return 1 if any(r.timeouts for r in results.values()) else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--steps", type=int, default=6, help="updates sent by each voter")
    parser.add_argument("--seed-voters", type=int, default=0, help="voters stored beforehand")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
