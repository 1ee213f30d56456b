"""`votebot roll import|stats|find`: the electoral roll for operators, in plain text."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.localtime import paris
from bot.roll import Answer, ImportReport, RollImportError, find, import_roll, on_ballot
from store import RollStats

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `roll`."""
    roll = sub.add_parser("roll", help="the electoral roll: import a CSV, stats, find a name")
    roll.add_argument("action", choices=["import", "stats", "find"])
    roll.add_argument("arg", nargs="?", help='import: the CSV file; find: "SURNAME First name"')


async def run(services: Services, args: argparse.Namespace) -> int:
    """Import a roll (progress bar on a terminal), summarise it, or look a name up."""
    store, now = services.store, services.clock()
    if args.action == "import":
        if not args.arg:
            print("votebot roll import FILE", file=sys.stderr)
            return 2
        return await _import(services, args.arg)
    if args.action == "stats":
        print(format_stats(await store.roll_stats(now - timedelta(days=1))))
        return 0
    if not args.arg:
        print('votebot roll find "SURNAME First name"', file=sys.stderr)
        return 2
    answer = await find(store, args.arg)
    print(format_answer(answer, services.election.roll_ballot))
    return 0 if answer.status == "found" else 1


async def _import(services: Services, path: str) -> int:
    """The import with a tqdm bar on stderr (none when stderr is not a terminal)."""
    from tqdm import tqdm

    bar = tqdm(
        desc="roll",
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=None,  # None: no bar when stderr is not a terminal (a pipe, a test, a log)
        dynamic_ncols=True,
    )

    def progress(done: int, total: int, rows: int) -> None:
        bar.total = total
        bar.set_postfix_str(f"{rows:,} rows", refresh=False)
        bar.update(done - bar.n)

    try:
        with bar:
            report = await import_roll(services.store, path, services.clock(), progress)
    except (OSError, RollImportError) as exc:
        print(
            f"votebot: roll not imported, the roll in service is unchanged: {exc}",
            file=sys.stderr,
        )
        return 1
    print(format_report(report))
    return 0


def format_report(report: ImportReport) -> str:
    """One summary line, then each rejected row with its line and reason."""
    lines = [
        f"roll imported from {report.source}: {report.imported:,} rows, "
        f"{report.rejected_count:,} rejected ({report.encoding}, separator "
        f"{report.delimiter!r}, {report.seconds:.1f} s)"
    ]
    lines += [f"  line {line}: {reason}" for line, reason in report.rejected]
    if report.rejected_count > len(report.rejected):
        lines.append(f"  ... and {report.rejected_count - len(report.rejected):,} more")
    return "\n".join(lines)


def format_stats(stats: RollStats) -> str:
    """A summary of the roll in service."""
    gen = stats.generation
    if gen is None or gen.completed_at is None:
        return "no roll in service (import one with: votebot roll import FILE)"
    lines = [
        f"roll in service: generation {gen.id}, from {gen.source}, "
        f"imported {paris(gen.completed_at):%Y-%m-%d %H:%M} (Paris time)",
        f"entries: {stats.entries}  people (distinct names): {stats.people}  "
        f"rejected at import: {gen.rejected}",
    ]
    for title, counts in (
        ("by ballot", stats.by_ballot),
        ("by category", stats.by_category),
        ("by departement", stats.by_departement),
    ):
        lines.append(f"{title}:")
        lines += [f"  {value or '(none)'}: {n}" for value, n in counts.items()]
    lines.append(f"look-ups in the last 24 h: {stats.lookups} ({stats.lookups_found} found)")
    if stats.refused:
        who = ", ".join(f"{user} ({n})" for user, n in stats.refused)
        lines.append(f"refused by the limits in the last 24 h (user id, times): {who}")
    return "\n".join(lines)


def format_answer(answer: Answer, roll_ballot: str) -> str:
    """`votebot roll find` output: found or not, for the guide's ballot; no suggestion."""
    if answer.status == "need_first_name":
        return "give a surname and a first name (no partial or surname-only search)"
    if answer.status == "unavailable":
        return "no roll in service"
    if answer.status == "found":
        where = (
            f"on the roll of {roll_ballot}" if on_ballot(answer, roll_ballot) else "on the roll"
        )
        return f"found: {where}"
    return "not found"
