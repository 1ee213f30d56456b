"""The `votebot` command line: one module per command group, each declaring its subcommands
(`add_parser`) and running them; `main` parses, then starts the services a command needs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.cli import admin, broadcast, content, db, directory, election, roll, serve

# The command groups, in the order `votebot --help` lists them.
GROUPS = (serve, content, admin, directory, roll, broadcast, election, db)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="votebot",
        description="Telegram assistant for the professional elections. Without a subcommand: "
        "Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat.",
    )
    sub = parser.add_subparsers(dest="command")
    for group in GROUPS:
        group.add_parser(sub)
    return parser


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
        return content.diagram(args)
    if args.command == "intent" and not args.export_feedback:
        return content.intent(args)
    if args.command == "db":
        return asyncio.run(db.copy_command(args.source, args.target))
    settings, elect = serve.startup()
    command = args.command or ("run" if settings.token else "chat")
    if command == "run":
        return serve.run(settings, elect, args)
    handlers: dict[str, Callable[..., Awaitable[int]]] = {
        "chat": serve.chat,
        "intent": content.export_feedback,
        "role": admin.role,
        "stats": admin.stats,
        "directory": directory.run,
        "roll": roll.run,
        "broadcast": broadcast.broadcast,
        "reminders": broadcast.reminders,
        "election": election.run,
    }
    return serve.with_services(settings, elect, handlers[command], args)
