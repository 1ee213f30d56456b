"""Bot API faults: the fake Telegram answers 5xx, times out, or answers 429 with retry_after
on a random share (default 10 %) of all calls, getUpdates included, under load.

    .venv/bin/python -m bench.fault_test [--voters 300] [--steps 8] [--rate 0.10]

Checks: the bot never crashes; every update is answered exactly once (a failed send is
retried with backoff, then left unconfirmed so the update comes back and the stored replies
go out); every voter's last message shows their committed step; nothing confusing is sent
(no "problème technique" message, no repeated answer).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

from bench.checks import audit
from bench.fakeapi import AsyncFakeBotAPI
from bench.harness import TOKEN, BotProcess, Voters, seeded_copy
from tests.fakes.botapi import fault_answer

ERROR_PHRASE = "problème technique"  # bot/templates/common/error.html


def faults(rate: float, seed: int):
    rng = random.Random(seed)

    def fault(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if rng.random() >= rate:
            return None
        kind = rng.choice(["500", "502", "503", "timeout", "429"])
        return fault_answer(kind)

    return fault


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        workdir = Path(tmp)
        db = seeded_copy(workdir, args.seed_voters)
        api = AsyncFakeBotAPI(TOKEN, fault=faults(args.rate, args.seed))
        bot = BotProcess("votebot", "polling", await api.start(), workdir)
        bot.start()
        await bot.ready(api, timeout=120)
        voters = Voters(api, args.voters, args.steps, seed=args.seed, answer_timeout=180)
        run = await voters.go()
        await asyncio.sleep(3)
        alive = bot.alive()
        await bot.stop()
        await api.close()
        result = audit(db, api, voters)
        logs = bot.logs()
    injected = sum(api.stats.faults.values())
    calls = sum(api.stats.calls.values())
    kinds: dict[str, int] = {}
    for key, n in api.stats.faults.items():
        kind = key.split(":")[1]
        kinds[kind] = kinds.get(kind, 0) + n
    print(
        f"{args.voters} voters × {args.steps} updates; {injected} of {calls} Bot API calls "
        f"failed ({injected / max(calls, 1):.0%}): {dict(sorted(kinds.items()))}"
    )
    print(run.summary())
    if args.verbose:
        print(f"calls: {dict(api.stats.calls)}\nfaults: {dict(api.stats.faults)}")
    for line in result.lines():
        print(line)
    confusing = sum(n for text, n in api.stats.sent_texts.items() if ERROR_PHRASE in text)
    print(f"error messages shown to voters: {confusing}")
    problems = []
    if not alive:
        problems.append("the bot crashed")
    if run.timeouts or result.never_recorded or result.unconfirmed:
        problems.append("some update was never answered")
    if result.duplicates:
        problems.append("some update was answered twice")
    if result.off_step:
        problems.append("some voter lost a step")
    if confusing:
        problems.append("voters were shown an error message")
    if "Traceback" in logs or " ERROR " in logs:
        problems.append("errors in the bot's log")
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))
    return 1 if problems else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.10, help="share of calls that fail")
    parser.add_argument("--seed-voters", type=int, default=0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="calls and faults per method")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
