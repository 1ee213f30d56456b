"""Render benchmark: the replies of many voters walking the flows, rendered by the bot's
renderer with texts reused for the same inputs (`bot/textdeps.py`), next to the same renderer
rendering every text (the baseline, in the same run).

    .venv/bin/python -m bench.render_bench [--voters 500] [--replies 20000] [--repeat 3]

Each reply is a random step of a random flow for a random voter, with the context the engine
gives it (the voter's first name, checklist and answers). Both renderers are warmed (every
template compiled, as `votebot run` does at start-up); the best of `--repeat` passes over the
same replies is shown, with how many distinct texts they make.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.election import load_election
from bot.flows import Reply, default_flows
from bot.settings import PARIS
from bot.textdeps import Needs
from bot.texts import Renderer

MOMENT = datetime(2026, 11, 20, 9, 0, tzinfo=PARIS)  # account activation, creteil-2026
CHECKLIST = ("account", "portal", "vote_code", "voted")


class EveryTime(Renderer):
    """The baseline: the same renderer, never reusing a text."""

    def _needs_of(self, template: str) -> Needs | None:
        return None


def replies(voters: int, count: int, seed: int = 1) -> list[Reply]:
    """`count` step replies of `voters` voters, as the engine builds them."""
    rng = random.Random(seed)
    steps = [(flow.name, step.name) for flow in default_flows() for step in flow.steps]
    out = []
    for _ in range(count):
        voter = rng.randrange(voters)
        flow, state = rng.choice(steps)
        context = {
            "data": {},
            "profile": {
                "first_name": f"Prénom{voter}",
                "category": None,
                "departement": None,
                "reminders": None,
            },
            "progress": sorted(rng.sample(CHECKLIST, rng.randint(0, 2))),
        }
        out.append(Reply(f"{flow}/{state}.html", context, (("menu",),), flow, state))
    return out


def timed(renderer: Renderer, batch: list[Reply], repeat: int) -> tuple[float, int]:
    """Best µs per reply over `repeat` passes, and the distinct texts made."""
    best = float("inf")
    texts: set[str] = set()
    for _ in range(repeat):
        started = time.perf_counter()
        for reply in batch:
            texts.add(renderer.render(reply).text)
        best = min(best, (time.perf_counter() - started) / len(batch) * 1e6)
    return best, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--replies", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"command: .venv/bin/python -m bench.render_bench {' '.join(sys.argv[1:])}".rstrip())
    batch = replies(args.voters, args.replies)
    election = load_election("creteil-2026")
    results = {}
    for name, kind in (("every time", EveryTime), ("reused", Renderer)):
        renderer = kind(election, lambda: MOMENT)
        renderer.warm()
        results[name] = timed(renderer, batch, args.repeat)
    (base, distinct), (reused, _) = results["every time"], results["reused"]
    print(f"{len(batch):,} replies of {args.voters} voters: {distinct:,} distinct texts")
    print(f"rendered every time (baseline): {base:.1f} µs a reply")
    print(f"texts reused for the same inputs: {reused:.1f} µs a reply ({base / reused:.1f} ×)")


if __name__ == "__main__":
    main()
