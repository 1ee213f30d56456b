"""Crash test: kill -9 the real `votebot run` at random moments under load, restart it, and
check that nothing was lost or answered twice.

    .venv/bin/python -m bench.crash_test [--voters 1000] [--steps 10] [--kills 5]
                                         [--mode polling|webhook|both]

Checks, from the fake Telegram and the bot's database after the run: every update was handled
and its replies recorded as sent; every voter's last message shows their committed step; no
update got a second answer, except in the one window that cannot be closed — replies sent
to Telegram but the bot killed before recording them as sent: Telegram re-delivers the update
and the stored replies go out once more. That window is bounded by the number of updates
committed-but-unconfirmed at each kill, counted separately.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from bench.checks import audit, unconfirmed_now
from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, Voters, seeded_copy


async def main(args: argparse.Namespace) -> int:
    modes = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    codes = [await crash(mode, args) for mode in modes]
    return max(codes)


async def crash(mode: str, args: argparse.Namespace) -> int:
    """kill -9 the bot under load in one mode; 0 if nothing was lost or repeated beyond the
    window."""
    print(f"[{mode}]")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        workdir = Path(tmp)
        db = seeded_copy(workdir, args.seed_voters)
        api = AsyncFakeBotAPI(TOKEN)
        bot = BotProcess("votebot", mode, await api.start(), workdir)
        bot.start()
        await bot.ready(api)
        voters = Voters(
            api, args.voters, args.steps, mode=mode, seed=args.seed, answer_timeout=180
        )
        walk = asyncio.create_task(voters.go())
        kills, window, downtime = 0, 0, 0.0
        while kills < args.kills:
            await asyncio.wait([walk], timeout=rng.uniform(args.min_gap, args.max_gap))
            if walk.done():
                break
            bot.kill9()
            kills += 1
            at_kill = unconfirmed_now(db)
            window += at_kill
            down = time.monotonic()
            bot.start()
            await bot.ready(api)
            downtime += time.monotonic() - down
            print(f"kill -9 #{kills}: {at_kill} updates committed but not confirmed as sent")
        run = await walk
        await asyncio.sleep(3)  # re-sent replies still on their way
        alive = bot.alive()
        await bot.stop()
        await api.close()
        result = audit(db, api, voters)
        logs = bot.logs()
    print(
        f"{args.voters} voters × {args.steps} updates, {kills} kill -9, restarts took "
        f"{downtime:.1f} s in all"
    )
    print(run.summary())
    for line in result.lines():
        print(line)
    print(
        f"window (committed, not confirmed as sent, at the kills): {window} updates → at "
        f"most {window} answers may be repeated; repeated: {result.duplicates}"
    )
    problems = []
    if run.timeouts or result.never_recorded or result.unconfirmed:
        problems.append("some update was never answered")
    if result.duplicates > window:
        problems.append("more repeated answers than the unavoidable window explains")
    if result.off_step:
        problems.append("some voter does not continue from their committed step")
    if not alive:
        problems.append("the bot was not running at the end")
    if "Traceback" in logs or " ERROR " in logs:
        problems.append("errors in the bot's log")
    if api.stats.errors:
        problems.append(f"Bot API misuse: {api.stats.errors[:3]}")
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))
    return 1 if problems else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--min-gap", type=float, default=2.0, help="seconds between kills")
    parser.add_argument("--max-gap", type=float, default=8.0)
    parser.add_argument("--seed-voters", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--mode", choices=["polling", "webhook", "both"], default="both")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
