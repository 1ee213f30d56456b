"""Load benchmark: simulated voters against the real `votebot run` process and a bare PTB echo
bot, on the same fake Bot API, in polling and/or webhook mode.

    .venv/bin/python -m bench.load_bench [--voters 1000] [--steps 10] [--seed-voters 100000]
                                         [--mode polling|webhook|both]

Reports updates answered per second, reply latency p50/p95/p99 (from the update being
available to the last reply of its answer reaching the server), the bot's peak RSS, and the
ratios to the echo bot, against the targets: ≥ 0.8 × echo throughput, p99 ≤ 2 × echo p99,
≤ 150 MB RSS with the seeded voters in the store.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
from pathlib import Path

import psutil

from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, Run, Voters, seeded_copy


async def measure(kind: str, mode: str, args: argparse.Namespace) -> tuple[Run, int, list[str]]:
    """One run: fresh fake server, fresh (seeded) store, the bot process, the voters."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        workdir = Path(tmp)
        if kind == "votebot":
            seeded_copy(workdir, args.seed_voters)
        api = AsyncFakeBotAPI(TOKEN)
        base = await api.start()
        bot = BotProcess(kind, mode, base, workdir)
        bot.start()
        try:
            await bot.ready(api)
            voters = Voters(api, args.voters, args.steps, mode=mode, seed=args.seed)
            run = await voters.go()
        finally:
            code = await bot.stop()
            await api.close()
        problems = list(api.stats.errors[:5])
        if code not in (0, None, -2):
            problems.append(f"{kind} exited with {code}")
        if run.timeouts:
            problems.append(f"{run.timeouts} updates never answered")
        logs = bot.logs()
        if "Traceback" in logs or " ERROR " in logs:
            problems.append(f"errors in the {kind} log (kept nowhere): {logs[-400:]}")
        return run, bot.peak_rss, problems


def machine() -> str:
    freq = psutil.cpu_freq()
    mhz = f" @ {freq.max or freq.current:.0f} MHz" if freq else ""
    return (
        f"{platform.processor() or platform.machine()}{mhz}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}"
    )


async def main(args: argparse.Namespace) -> int:
    modes = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    print(f"machine: {machine()}")
    print(
        f"{args.voters} voters × {args.steps} updates each; votebot store seeded with "
        f"{args.seed_voters:,} voters"
    )
    failed = False
    for mode in modes:
        results = {}
        for kind in ("echo", "votebot") if not args.only else (args.only,):
            run, rss, problems = await measure(kind, mode, args)
            results[kind] = (run, rss)
            print(f"[{mode}] {kind:8} {run.summary()}; peak RSS {rss / 2**20:.0f} MB")
            for problem in problems:
                print(f"[{mode}] {kind:8} PROBLEM: {problem}")
                failed = True
        if args.only:
            continue
        (echo, _), (bot, rss) = results["echo"], results["votebot"]
        ratio = bot.rate / echo.rate if echo.rate else 0.0
        p99 = bot.pct(99) / echo.pct(99) if echo.latencies else float("nan")
        checks = [
            (f"throughput {ratio:.2f} × echo (target ≥ 0.80)", ratio >= 0.8),
            (f"p99 {p99:.2f} × echo p99 (target ≤ 2.00)", p99 <= 2.0),
            (f"peak RSS {rss / 2**20:.0f} MB (target ≤ 150 MB)", rss <= 150 * 2**20),
        ]
        for text, ok in checks:
            print(f"[{mode}] {'PASS' if ok else 'MISS'} {text}")
            failed |= not ok
    return 1 if failed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10, help="updates sent by each voter")
    parser.add_argument("--seed-voters", type=int, default=100_000)
    parser.add_argument("--mode", choices=["polling", "webhook", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the voters")
    parser.add_argument("--only", choices=["echo", "votebot"], help="measure one bot only")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
