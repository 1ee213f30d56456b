"""Load benchmark: simulated voters against the real `votebot run` process and a bare PTB echo
bot, on the same fake Bot API, in polling and/or webhook mode.

    .venv/bin/python -m bench.load_bench [--voters 500] [--steps 6] [--seed-voters 100000]
                                         [--mode polling|webhook|both]

Per mode, four runs: each bot saturated (every voter always waiting for an answer: the
throughput), then each bot paced at half the slower bot's saturated rate (voters pause
between messages: the latency at a load both bots sustain with headroom). Voters press
buttons, type free-text questions and commands. Targets: throughput ≥ 0.8 × echo, paced
p99 ≤ 2 × echo, ≤ 150 MB peak RSS with the seeded voters in the store. The harness must not
be the limit: the echo bot must reach ≥ 500 updates/s in the same run, else the run says so
and fails. Each run also shows how busy the bot's main thread (its event loop) was: a bot
whose main thread is not busy all the time when saturated waits on something else. With
`BENCH_PROFILE=/tmp/prof` (py-spy installed) the top functions of the bot are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import glob
import os
import platform
import tempfile
from pathlib import Path

import psutil

from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, Run, Voters, seeded_copy

ECHO_FLOOR = 500.0  # updates/s the echo bot must reach for the harness to be trusted


async def measure(
    kind: str, mode: str, args: argparse.Namespace, voters: int, steps: int, pause: float
) -> tuple[Run, int, list[str]]:
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
            crowd = Voters(api, voters, steps, mode=mode, seed=args.seed, pause=pause)
            main_before = bot.main_thread_cpu()
            run = await crowd.go()
            if run.seconds:
                run.main_busy = (bot.main_thread_cpu() - main_before) / run.seconds
        finally:
            code = await bot.stop()
            await api.close()
        run.bot_cpu = bot.cpu / run.seconds if run.seconds else 0.0
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
    load = f", load {os.getloadavg()[0]:.1f}"
    return (
        f"{platform.processor() or platform.machine()}{mhz}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}"
        f"{load}"
    )


def top_functions(prefix: str, mode: str, count: int = 8) -> list[str]:
    """The functions the bot spent most samples in (self time), from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for path in glob.glob(f"{prefix}.{mode}.votebot.*"):
        for line in Path(path).read_text(errors="replace").splitlines():
            stack, _, samples = line.rpartition(" ")
            if not samples.isdigit():
                continue
            total += int(samples)
            own[stack.split(";")[-1]] += int(samples)
    return [f"{n / total:5.1%}  {frame}" for frame, n in own.most_common(count)] if total else []


async def main(args: argparse.Namespace) -> int:
    modes = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    print(f"machine: {machine()}")
    print(
        f"saturated: {args.voters} voters × {args.steps} updates; paced: {args.paced_voters} "
        f"voters × {args.steps} updates; votebot store seeded with {args.seed_voters:,} voters"
    )
    failed = False

    async def one(kind: str, mode: str, label: str, voters: int, pause: float) -> Run:
        nonlocal failed
        run, rss, problems = await measure(kind, mode, args, voters, args.steps, pause)
        run.peak_rss = rss
        print(
            f"[{mode}] {kind:8} {label:9} {run.summary()}; bot CPU {run.bot_cpu:.0%} of a "
            f"core (main thread busy {run.main_busy:.0%} of the run); peak RSS "
            f"{rss / 2**20:.0f} MB"
        )
        for problem in problems:
            print(f"[{mode}] {kind:8} PROBLEM: {problem}")
            failed = True
        return run

    for mode in modes:
        echo = await one("echo", mode, "saturated", args.voters, 0.0)
        bot = await one("votebot", mode, "saturated", args.voters, 0.0)
        # A load both bots sustain with headroom: half the slower one's saturated rate.
        target = max(min(echo.rate, bot.rate) / 2, 1.0)
        pause = args.paced_voters / target  # each voter: one update per `pause` seconds
        # Paced runs alternate echo and votebot, and the median p99 of each is compared: on
        # a shared machine a burst of other work can land on one run and not the next.
        echo_runs, bot_runs = [], []
        for _ in range(args.paced_repeats):
            echo_runs.append(await one("echo", mode, "paced", args.paced_voters, pause))
            bot_runs.append(await one("votebot", mode, "paced", args.paced_voters, pause))
        echo_paced, bot_paced = _median(echo_runs), _median(bot_runs)
        ratio = bot.rate / echo.rate if echo.rate else 0.0
        p99 = bot_paced.pct(99) / echo_paced.pct(99) if echo_paced.latencies else float("nan")
        rss = max(r.peak_rss for r in [bot, *bot_runs])
        checks = [
            (
                f"harness: echo bot {echo.rate:.0f} updates/s (must be ≥ {ECHO_FLOOR:.0f}, else "
                "the harness or the machine is the bottleneck: the figures are not the bot's)",
                echo.rate >= ECHO_FLOOR,
            ),
            (
                f"throughput {ratio:.2f} × echo (target ≥ 0.80; main thread busy "
                f"{bot.main_busy:.0%} of the run, echo's {echo.main_busy:.0%})",
                ratio >= 0.8,
            ),
            (
                f"p99 at {bot_paced.rate:.0f} updates/s (paced for {target:.0f}; median of "
                f"{args.paced_repeats} runs): "
                f"{bot_paced.pct(99):.0f} ms vs echo {echo_paced.pct(99):.0f} ms = {p99:.2f} × "
                "(target ≤ 2.00)",
                p99 <= 2.0,
            ),
            (f"peak RSS {rss / 2**20:.0f} MB (target ≤ 150 MB)", rss <= 150 * 2**20),
        ]
        for text, ok in checks:
            print(f"[{mode}] {'PASS' if ok else 'MISS'} {text}")
            failed |= not ok
        if echo.rate < ECHO_FLOOR:
            print(
                f"[{mode}] FAIL: harness is the bottleneck (harness CPU {echo.harness_cpu:.0%}, "
                f"echo bot CPU {echo.bot_cpu:.0%} of a core, load {os.getloadavg()[0]:.1f})"
            )
        profile = os.environ.get("BENCH_PROFILE")
        if profile:
            print(f"[{mode}] top functions of votebot (py-spy, self time):")
            for line in top_functions(profile, mode):
                print(f"[{mode}]   {line}")
    return 1 if failed else 0


def _median(runs: list[Run]) -> Run:
    """The run with the median p99."""
    return sorted(runs, key=lambda r: r.pct(99))[len(runs) // 2]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500, help="voters in the saturated runs")
    parser.add_argument("--paced-voters", type=int, default=300, help="voters in paced runs")
    parser.add_argument("--paced-repeats", type=int, default=3, help="paced runs of each bot")
    parser.add_argument("--steps", type=int, default=6, help="updates sent by each voter")
    parser.add_argument("--seed-voters", type=int, default=100_000)
    parser.add_argument("--mode", choices=["polling", "webhook", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the voters")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
