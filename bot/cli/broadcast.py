"""`votebot broadcast` and `votebot reminders`: queue, inspect and plan broadcasts."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from bot.election import Election
from bot.localtime import paris_iso

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `broadcast` and `reminders`."""
    broadcast = sub.add_parser(
        "broadcast",
        help="queue a broadcast for the running bot, or list / inspect / cancel broadcasts",
        description="Without an action: queue a broadcast (--text or --text-file) and print "
        "its id; the running bot sends it. Actions: list, status ID, cancel ID.",
    )
    broadcast.add_argument("action", nargs="?", choices=["list", "status", "cancel"])
    broadcast.add_argument("id", nargs="?", type=int, help="broadcast id (status, cancel)")
    text = broadcast.add_mutually_exclusive_group()
    text.add_argument("--text", help="Telegram HTML; {prenom}, {jours_restants}, {date_cloture}")
    text.add_argument("--text-file", help="file holding the text (UTF-8)")
    broadcast.add_argument(
        "--audience",
        default="all",
        help="all, or criteria joined by commas: category=X,departement=NN,not_done=STEP "
        "(not_done=voted: voters who have not voted yet)",
    )
    broadcast.add_argument(
        "--at",
        help="ISO date-time (Europe/Paris if no offset), in the future and before the vote "
        "closes; default now",
    )
    reminders = sub.add_parser(
        "reminders",
        help="review, edit and enable the calendar reminders",
        description="plan: show the reminders derived from the election calendar; "
        "enable/disable [KEY...]: schedule them or not; edit KEY: change time, text, audience.",
    )
    reminders.add_argument("action", choices=["plan", "enable", "disable", "edit"])
    reminders.add_argument("keys", nargs="*", help="reminder keys (default: all)")
    reminders.add_argument("--at", help="edit: new ISO date-time (Europe/Paris if no offset)")
    reminders.add_argument("--text-file", help="edit: file holding the new text")
    reminders.add_argument("--audience", help="edit: new audience")


def _fail(message: str) -> int:
    """Say what is wrong on stderr; exit code 2."""
    print(f"votebot: {message}", file=sys.stderr)
    return 2


def _when_problem(at: datetime, now: datetime, election: Election) -> str | None:
    """A send time refused (in the past, after the vote closes), said for an operator."""
    from bot.broadcast import check_when

    reason = check_when(at, now, election)
    if reason == "past":
        return f"{at.isoformat(timespec='minutes')} is in the past"
    if reason == "after_close":
        when, calendar = at.isoformat(timespec="minutes"), election.calendar
        if calendar.vote_closes is None:
            last = f"last day {calendar.closing_day}, time unpublished"
            return f"{when} is after the vote closes ({last})"
        closes = calendar.closes_at().astimezone(election.tz)
        return f"{when} is after the vote closes ({closes:%Y-%m-%d %H:%M})"
    return None


def _read_text(args: argparse.Namespace) -> str | None:
    """The text of --text-file, else of --text."""
    if args.text_file:
        with open(args.text_file, encoding="utf-8") as fh:
            return fh.read().strip()
    return getattr(args, "text", None)


async def broadcast(services: Services, args: argparse.Namespace) -> int:
    """Queue a broadcast, or list, inspect or cancel broadcasts."""
    from bot.broadcast import check_text, parse_audience, parse_when

    store, now = services.store, services.clock()
    if args.action == "list":
        for listed in await store.list_broadcasts(limit=50):
            counts = await store.broadcast_counts(listed.id)
            when = paris_iso(listed.send_at)
            print(
                f"{listed.id}\t{listed.state}\t{when}\t{listed.audience}\t"
                f"{counts.sent}/{counts.total}"
            )
        return 0
    if args.action in ("status", "cancel"):
        if args.id is None:
            return _fail(f"broadcast {args.action} ID")
        if args.action == "cancel" and not await store.cancel_broadcast(args.id, now):
            return _fail(f"broadcast {args.id}: nothing to cancel")
        b = await store.get_broadcast(args.id)
        if b is None:
            return _fail(f"no broadcast {args.id}")
        c = await store.broadcast_counts(b.id)
        print(
            f"broadcast {b.id}: {b.state}, audience {b.audience}, "
            f"at {paris_iso(b.send_at)}\n"
            f"delivered {c.sent}, pending {c.open}, blocked {c.blocked}, failed {c.failed} "
            f"(recipients {c.total})"
        )
        return 0
    text = _read_text(args)
    if not text:
        return _fail("broadcast: --text or --text-file is required")
    problem = check_text(text)
    if problem is not None:
        return _fail(f"broadcast: invalid text: {problem.reason} {problem.detail}".strip())
    try:
        audience = parse_audience(args.audience, services.election)
    except ValueError as exc:
        return _fail(f"broadcast: --audience: {exc}")
    at = parse_when(args.at, services.election) if args.at else now
    if at is None:
        return _fail(f"broadcast: --at: not a date-time: {args.at!r}")
    if args.at and (reason := _when_problem(at, now, services.election)):
        return _fail(f"broadcast: --at: {reason}")
    broadcast_id = await store.create_broadcast(text, audience, at, now)
    print(broadcast_id)
    return 0


async def reminders(services: Services, args: argparse.Namespace) -> int:
    """Show, enable, disable or edit the calendar reminders."""
    from bot.broadcast import check_text, ensure_plan, parse_audience, parse_when

    store, now = services.store, services.clock()
    await ensure_plan(store, services.renderer, services.election, now)
    plan = {b.plan_key: b for b in await store.planned_reminders() if b.plan_key}
    keys = args.keys or list(plan)
    unknown = [k for k in keys if k not in plan]
    if unknown:
        return _fail(f"reminders: unknown key(s) {unknown} (keys: {', '.join(plan)})")
    if args.action == "plan":
        for key in keys:
            b = plan[key]
            when = paris_iso(b.send_at)
            first = b.text.splitlines()[0] if b.text else ""
            print(f"{key}\t#{b.id}\t{b.state}\t{when}\t{b.audience}\t{first}")
        return 0
    if args.action == "edit":
        if len(keys) != 1 or not args.keys:
            return _fail("reminders edit KEY [--at ISO] [--text-file F] [--audience A]")
        text = _read_text(args)
        if text is not None and (problem := check_text(text)) is not None:
            return _fail(f"reminders: invalid text: {problem.reason} {problem.detail}".strip())
        try:
            audience = parse_audience(args.audience, services.election) if args.audience else None
        except ValueError as exc:
            return _fail(f"reminders: --audience: {exc}")
        at = parse_when(args.at, services.election) if args.at else None
        if args.at and at is None:
            return _fail(f"reminders: --at: not a date-time: {args.at!r}")
        if at is not None and (reason := _when_problem(at, now, services.election)):
            return _fail(f"reminders: --at: {reason}")
        changed = await store.edit_reminder(keys[0], text, audience, at)
        print(f"edit {keys[0]}: {'done' if changed else 'unchanged (already started?)'}")
        return 0
    for key in keys:
        if args.action == "enable" and plan[key].send_at <= now:
            print(f"enable {key}: skipped (its time has passed)")
            continue
        changed = await store.enable_reminder(key, args.action == "enable")
        print(f"{args.action} {key}: {'done' if changed else 'unchanged'}")
    return 0
