"""Memory benchmark: the resident size of `votebot run` with a large store, idle and answering.

    .venv/bin/python -m bench.rss_bench [--seed-voters 100000] [--voters 50] [--cold]

Starts the real `votebot run` (long polling) on a copy of a store seeded with `--seed-voters`
voters (built once, cached in bench/.cache), against the fake Bot API, waits until it polls,
has `--voters` voters each type two free-text questions, then lets it idle. Reports the time
to the first poll, the bot's peak and final RSS, and the peak RSS of any child process (the
intent model's training, which runs outside the bot). `--cold` starts with an empty model
cache, so the child trains; otherwise the cached model is loaded. Target: ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

import psutil

from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, seeded_copy

QUESTIONS = ("j'ai perdu mon code de vote", "kan est ce que le vote ferme ?")
MB = 2**20


async def _children_peak(pid: int, peak: list[int]) -> None:
    """Sample the bot's child processes (the model's training) every 50 ms."""
    try:
        proc = psutil.Process(pid)
        while True:
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    peak[0] = max(peak[0], child.memory_info().rss)
            await asyncio.sleep(0.05)
    except psutil.NoSuchProcess:
        return


async def main(args: argparse.Namespace) -> int:
    """Run the bot once and print its memory figures."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        workdir = Path(tmp)
        seeded_copy(workdir, args.seed_voters)
        api = AsyncFakeBotAPI(TOKEN)
        base = await api.start()
        bot = BotProcess("votebot", "polling", base, workdir)
        if args.cold:
            bot.env["XDG_CACHE_HOME"] = str(workdir / "cache")
        started = time.monotonic()
        bot.start()
        assert bot.proc is not None
        child_peak = [0]
        sampler = asyncio.create_task(_children_peak(bot.proc.pid, child_peak))
        try:
            await bot.ready(api, timeout=120)
            ready = time.monotonic() - started
            rss_ready = psutil.Process(bot.proc.pid).memory_info().rss
            for round_ in range(len(QUESTIONS)):
                pending = []
                for voter in range(1, args.voters + 1):
                    pending.append(api.expect(voter).future)
                    api.push(api.text_update(voter, QUESTIONS[round_]))
                await asyncio.wait_for(asyncio.gather(*pending), 60)
            await asyncio.sleep(args.idle)
            rss_end = psutil.Process(bot.proc.pid).memory_info().rss
        finally:
            sampler.cancel()
            code = await bot.stop()
            await api.close()
    print(f"store: {args.seed_voters:,} voters; cache: {'cold' if args.cold else 'as found'}")
    print(f"load average: {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    print(f"first poll after {ready:.1f} s; RSS then {rss_ready / MB:.0f} MB")
    print(
        f"after {2 * args.voters} free-text answers and {args.idle:.0f} s idle: "
        f"{rss_end / MB:.0f} MB"
    )
    print(f"bot peak RSS: {bot.peak_rss / MB:.0f} MB (target ≤ 150 MB)")
    print(f"child process peak RSS: {child_peak[0] / MB:.0f} MB (0: no child)")
    return 0 if code in (0, -2, None) and bot.peak_rss <= 150 * MB else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-voters", type=int, default=100_000)
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--cold", action="store_true", help="empty model cache: train first")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
