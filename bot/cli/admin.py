"""`votebot role` and `votebot stats`: who may do what, and the funnel."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `role` and `stats`."""
    role = sub.add_parser("role", help="grant, revoke or list roles (broadcaster, support)")
    role.add_argument("action", choices=["add", "remove", "list"])
    role.add_argument("user_id", nargs="?", type=int)
    role.add_argument("role", nargs="?")
    stats = sub.add_parser("stats", help="print the funnel: voters reaching each flow step")
    stats.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")


async def role(services: Services, args: argparse.Namespace) -> int:
    """Grant, revoke or list roles."""
    from store.roles import ROLES

    if args.action == "list":
        admins = sorted(services.settings.admins)
        for user_id in admins:
            print(f"{user_id}\tadmin (VOTEBOT_ADMINS)")
        for user_id, role in await services.store.list_roles():
            print(f"{user_id}\t{role}")
        return 0
    if args.user_id is None or args.role not in ROLES:
        print(
            f"votebot role {args.action} USER_ID ROLE  (roles: {', '.join(ROLES)})",
            file=sys.stderr,
        )
        return 2
    now = services.clock()
    if args.action == "add":
        changed = await services.store.grant_role(args.user_id, args.role, None, now)
    else:
        changed = await services.store.revoke_role(args.user_id, args.role)
    print(f"{args.action} {args.role} {args.user_id}: {'done' if changed else 'unchanged'}")
    return 0


async def stats(services: Services, args: argparse.Namespace) -> int:
    """The funnel, the guide, handoffs, agents and the inbox, as a table or CSV."""
    import csv

    from bot.support import collect_stats, format_duration

    stats = await collect_stats(services)
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["flow", "step", "reached", "here_now"])
        writer.writerows(stats.funnel)
        # The /stats chart's figures: the guide funnel (flow "guide"), then each agent.
        writer.writerows(("guide", name, value, "") for name, value in stats.guide)
        writer.writerow(["agent", "handled", "first_response_s", "resolution_s", "up", "down"])
        for a in stats.agents:
            first = int(a.first_response.total_seconds()) if a.first_response else ""
            solved = int(a.resolution.total_seconds()) if a.resolution else ""
            writer.writerow([a.name, a.handled, first, solved, a.up, a.down])
        return 0
    print(f"{stats.voters} voters")
    print(f"{'flow':<12} {'step':<20} {'reached':>8} {'here now':>9}")
    top = max((row[2] for row in stats.funnel), default=0) or 1
    for flow, step, reached, here in stats.funnel:
        bar = "#" * round(40 * reached / top)
        print(f"{flow:<12} {step:<20} {reached:>8} {here:>9}  {bar}")
    for f in stats.flows:
        drop = f", most left at {f.drop_step} ({f.drop_count})" if f.drop_step else ""
        print(f"{f.flow}: {f.started} started, {f.completed} completed ({f.rate} %){drop}")
    print("guide: " + ", ".join(f"{name} {value}" for name, value in stats.guide))
    h = stats.handoffs
    median = format_duration(stats.median_close) or "-"
    print(f"handoffs: {h.open} open, {h.closed} closed, median time to close {median}")
    for a in stats.agents:
        first = format_duration(a.first_response) or "-"
        solved = format_duration(a.resolution) or "-"
        print(
            f"agent {a.name}: {a.handled} handled, first response {first}, "
            f"resolved {solved} (medians), up {a.up}, down {a.down}"
        )
    inbox = await services.store.inbox_counts()
    print(
        f"updates: {inbox.queued} waiting, {inbox.aside} set aside (could not be handled), "
        f"{inbox.dropped} dropped (a voter flooding)"
    )
    return 0
