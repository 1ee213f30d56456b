"""The `votebot` command line; each subcommand is one `_cmd_*` function, wired in `_parser`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot import election_cmd
from bot.election import ConfigError, Election, current_builtin, load_election
from bot.localtime import paris_iso
from bot.logs import configure_logging, mask
from bot.settings import PARIS, Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="votebot",
        description="Telegram assistant for the professional elections. Without a subcommand: "
        "Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat.",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="serve voters on Telegram (long polling, or a webhook)")
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public https URL instead of polling "
        "(needs VOTEBOT_WEBHOOK_SECRET)",
    )
    sub.add_parser("chat", help="chat with the bot in this terminal (stdin/stdout)")
    diagram = sub.add_parser("diagram", help="print a flow as a Mermaid diagram")
    diagram.add_argument("flow", help="flow name, e.g. webmel")
    intent = sub.add_parser(
        "intent",
        help="print the intent, confidence and decision of a text (or of each stdin line)",
    )
    intent.add_argument("text", nargs="?", help="a voter's message; omitted: read stdin")
    intent.add_argument(
        "--eval", metavar="FILE", help="evaluate on a labelled intent<TAB>text file"
    )
    intent.add_argument(
        "--cross-validate", action="store_true", help="5-fold cross-validation on the corpus"
    )
    intent.add_argument(
        "--export-feedback",
        action="store_true",
        help="print the voters' clarify choices as intent<TAB>text lines (from VOTEBOT_DB)",
    )
    role = sub.add_parser("role", help="grant, revoke or list roles (broadcaster, support)")
    role.add_argument("action", choices=["add", "remove", "list"])
    role.add_argument("user_id", nargs="?", type=int)
    role.add_argument("role", nargs="?")
    stats = sub.add_parser("stats", help="print the funnel: voters reaching each flow step")
    stats.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    directory = sub.add_parser("directory", help="the contact directory: list, import a CSV")
    directory.add_argument("action", choices=["list", "import"])
    directory.add_argument("file", nargs="?", help="CSV: category, departement, address")
    roll = sub.add_parser("roll", help="the electoral roll: import a CSV, stats, find a name")
    roll.add_argument("action", choices=["import", "stats", "find"])
    roll.add_argument("arg", nargs="?", help='import: the CSV file; find: "SURNAME First name"')
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
    election_cmd.add_parser(sub)
    db = sub.add_parser("db", help="copy a SQLite database to PostgreSQL (db copy FILE URL)")
    db.add_argument("action", choices=["copy"])
    db.add_argument("source", help="the SQLite file")
    db.add_argument("target", help="postgresql://user@host/database (empty, to be filled)")
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
    return parser


def _startup(env_file: str | None = ".env") -> tuple[Settings, Election]:
    """Settings then election, each validated once; a bad value exits with one clear line."""
    try:
        settings = load_settings(env_file)
        now = settings.now or datetime.now(PARIS)
        election = load_election(settings.election or current_builtin(now))
        folder = settings.texts_dir or election.texts_dir
        if folder is not None:
            from bot.text_overrides import check_overrides

            check_overrides(folder, election)
    except (SettingsError, ConfigError) as exc:
        print(f"votebot: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    configure_logging(settings.log_level, settings.token, secret)
    return settings, election


def _with_services(
    settings: Settings, election: Election, work: Callable[..., Awaitable[int]], *args: object
) -> int:
    """Open the services, run `work(services, *args)`, close them; returns its exit code."""
    from bot.services import Services

    async def main() -> int:
        services = await Services.open(settings, election)
        try:
            return await work(services, *args)
        finally:
            await services.close()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130


def _cmd_intent(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.intent import classify, decide
    from bot.intent.corpus import load_corpus, load_file
    from bot.intent.evaluate import cross_validate, evaluate

    if args.eval:
        print(evaluate(load_file(Path(args.eval))).format())
        return 0
    if args.cross_validate:
        print(cross_validate(load_corpus()).format())
        return 0
    if args.text is not None:
        decision = decide(classify(args.text))
        print(decision.intent)
        print(f"{decision.guess.confidence:.2f}")
        print(" ".join((decision.kind, *decision.options)))
        return 0
    for line in sys.stdin:
        decision = decide(classify(line.rstrip("\n")))
        print(f"{decision.intent}\t{decision.guess.confidence:.2f}\t{decision.kind}", flush=True)
    return 0


async def _cmd_export_feedback(services, args: argparse.Namespace) -> int:
    for row in await services.store.intent_feedback():
        text = " ".join(row.text.split())
        print(f"{row.intent}\t{text}")
    return 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    from bot.diagram import mermaid
    from bot.flows import default_flows

    flows = default_flows()
    if args.flow not in flows:
        names = ", ".join(f.name for f in flows)
        print(f"votebot: unknown flow {args.flow!r} (flows: {names})", file=sys.stderr)
        return 2
    print(mermaid(flows[args.flow]))
    return 0


async def _cmd_chat(services, args: argparse.Namespace) -> int:
    from bot.console import run_console

    await run_console(services)
    return 0


async def _cmd_role(services, args: argparse.Namespace) -> int:
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
    now = services.engine.clock()
    if args.action == "add":
        changed = await services.store.grant_role(args.user_id, args.role, None, now)
    else:
        changed = await services.store.revoke_role(args.user_id, args.role)
    print(f"{args.action} {args.role} {args.user_id}: {'done' if changed else 'unchanged'}")
    return 0


async def _cmd_stats(services, args: argparse.Namespace) -> int:
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


async def _cmd_directory(services, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.directory import DirectoryImportError, parse_directory_csv

    if args.action == "import":
        if not args.file:
            print("votebot directory import FILE", file=sys.stderr)
            return 2
        try:
            entries = parse_directory_csv(Path(args.file).read_bytes(), services.election)
        except (OSError, DirectoryImportError) as exc:
            print(f"votebot: directory not imported, nothing changed:\n{exc}", file=sys.stderr)
            return 1
        count = await services.store.directory_replace(entries)
        print(f"directory replaced: {count} addresses (a running bot reloads it within a minute)")
    for entry in await services.store.directory_list():
        print(f"{entry.category}\t{entry.departement or '-'}\t{entry.address}")
    return 0


async def _cmd_roll(services, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot import roll

    store, now = services.store, services.engine.clock()
    if args.action == "import":
        if not args.arg:
            print("votebot roll import FILE", file=sys.stderr)
            return 2
        bar = roll.ProgressBar(sys.stderr)
        try:
            report = await roll.import_roll(store, args.arg, now, progress=bar)
        except (OSError, roll.RollImportError) as exc:
            bar.close()
            print(
                f"votebot: roll not imported, the roll in service is unchanged: {exc}",
                file=sys.stderr,
            )
            return 1
        bar.close()
        print(roll.format_report(report))
        return 0
    if args.action == "stats":
        print(roll.format_stats(await store.roll_stats(now - timedelta(days=1))))
        return 0
    if not args.arg:
        print('votebot roll find "SURNAME First name"', file=sys.stderr)
        return 2
    answer = await roll.find(store, args.arg)
    print(roll.format_answer(answer, services.election.roll_ballot))
    return 0 if answer.status == "found" else 1


def _fail(message: str) -> int:
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
    if args.text_file:
        with open(args.text_file, encoding="utf-8") as fh:
            return fh.read().strip()
    return getattr(args, "text", None)


async def _cmd_broadcast(services, args: argparse.Namespace) -> int:
    from bot.broadcast import check_text, parse_audience, parse_when

    store, now = services.store, services.engine.clock()
    if args.action == "list":
        for b in await store.list_broadcasts(limit=50):
            counts = await store.broadcast_counts(b.id)
            when = paris_iso(b.send_at)
            print(f"{b.id}\t{b.state}\t{when}\t{b.audience}\t{counts.sent}/{counts.total}")
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


async def _cmd_reminders(services, args: argparse.Namespace) -> int:
    from bot.broadcast import check_text, ensure_plan, parse_audience, parse_when

    store, now = services.store, services.engine.clock()
    await ensure_plan(store, services.renderer, services.election, now)
    plan = {b.plan_key: b for b in await store.planned_reminders()}
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


def _serve(settings: Settings, run: Callable[..., None], *args: object) -> int:
    """Run the bot; an error at start-up or later is one line with the token masked: exit
    code 2 when Telegram rejects the token, 1 otherwise (the traceback, masked, at DEBUG)."""
    import logging
    import traceback

    from telegram.error import InvalidToken

    token = settings.token
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        run(*args)
    except KeyboardInterrupt:
        return 130
    except InvalidToken:
        print(
            "votebot: Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped? "
            "check it with @BotFather)",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            print(mask("".join(traceback.format_exception(exc)), token, secret), file=sys.stderr)
        line = mask(f"{type(exc).__name__}: {exc}", token, secret).splitlines()
        print(f"votebot: stopped by an error: {line[0] if line else ''}", file=sys.stderr)
        return 1
    return 0


async def _cmd_election(services, args: argparse.Namespace) -> int:
    return await election_cmd.run(services, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `votebot` and `python -m bot`; a closed pipe (`| head`) ends it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away: stop writing, and let the interpreter's final flush go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diagram":
        return _cmd_diagram(args)
    if args.command == "intent" and not args.export_feedback:
        return _cmd_intent(args)
    if args.command == "db":
        from bot.dbcopy import copy_command

        return asyncio.run(copy_command(args.source, args.target))
    settings, election = _startup()
    command = args.command or ("run" if settings.token else "chat")
    if command == "run":
        if not settings.token:
            print(
                "votebot: configuration error: TELEGRAM_BOT_TOKEN: required by 'run'",
                file=sys.stderr,
            )
            return 2
        webhook = getattr(args, "webhook", None)
        if webhook:
            if not settings.webhook_secret:
                print(
                    "votebot: configuration error: VOTEBOT_WEBHOOK_SECRET: required by "
                    "'run --webhook'",
                    file=sys.stderr,
                )
                return 2
            from bot.telegram.app import run_webhook

            return _serve(settings, run_webhook, settings, election, webhook)
        from bot.telegram.app import run_polling

        return _serve(settings, run_polling, settings, election)
    handlers: dict[str, Callable[..., Awaitable[int]]] = {
        "chat": _cmd_chat,
        "intent": _cmd_export_feedback,
        "role": _cmd_role,
        "stats": _cmd_stats,
        "directory": _cmd_directory,
        "roll": _cmd_roll,
        "broadcast": _cmd_broadcast,
        "reminders": _cmd_reminders,
        "election": _cmd_election,
    }
    return _with_services(settings, election, handlers[command], args)
