"""`votebot election show|set|history|check`: the election facts from the terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.election import FACTS, ConfigError, fact_value, format_fact
from bot.facts import check
from bot.localtime import paris_iso

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `election` subcommand."""
    election = sub.add_parser(
        "election",
        help="show, set, trace and check the election facts (portal URL, dates)",
        description="show: every fact, its value and origin; set KEY VALUE: validate and store "
        "a fact (VALUE '-' = not published), in force for the running bot within a minute; "
        "history: every change, who and when; check: what is missing or unverified "
        f"(exit 1 if anything is). Keys: {', '.join(FACTS)}.",
    )
    election.add_argument("action", choices=["show", "set", "history", "check"])
    election.add_argument("key", nargs="?", choices=list(FACTS))
    election.add_argument("value", nargs="?", help="https URL, 2026-12-03 or 2026-12-10T17:00")


async def run(services: Services, args: argparse.Namespace) -> int:
    """Run one `votebot election` action; returns the exit code."""
    election = services.election
    if args.action == "set":
        if args.key is None or args.value is None:
            print("votebot election set: KEY and VALUE are required", file=sys.stderr)
            return 2
        old = election
        try:
            change = await services.set_fact(args.key, args.value, None)
        except ConfigError as exc:
            print(f"votebot election set: {exc}", file=sys.stderr)
            return 2
        from bot.telegram.plan import follow_facts  # the calendar reminders (bot.broadcast)

        if await follow_facts(services, old):
            print("calendar reminders not edited by hand follow the new value")
        print(f"{args.key} = {format_fact(change.after)} (was {format_fact(change.before)})")
        if change.drafted:
            print(
                f"broadcast drafted for review, not sent: {change.drafted} "
                f"(review with /calendrier; send with `votebot reminders enable {change.drafted}`)"
            )
        return 0
    if args.action == "history":
        for s in await services.store.election_history(election.id):
            who = "cli" if s.set_by is None else str(s.set_by)
            print(f"{paris_iso(s.set_at)}\t{s.key}\t{s.value or '-'}\t{who}")
        return 0
    if args.action == "check":
        rows = check(election)
        for key, state in rows:
            detail = FACTS[key][1] if state == "missing" else election.sources.get(key, "")
            print(f"{state}\t{key}\t{detail}")
        if not rows:
            print(f"{election.id}: every fact is published and sourced")
        return 1 if rows else 0
    current = await services.store.election_current(election.id)
    history = {s.key: s for s in await services.store.election_history(election.id)}
    phase = election.phase(services.clock())
    print(f"election {election.id} ({election.academie}), phase {phase}")
    for key in FACTS:
        value = fact_value(election, key)
        if key in current and key in history:
            s = history[key]
            origin = f"set by {'cli' if s.set_by is None else s.set_by} at {paris_iso(s.set_at)}"
        elif value is None:
            origin = "not published"
        else:
            origin = election.sources.get(key, "configuration")
        print(f"{key}\t{format_fact(value)}\t{origin}")
    return 0
