"""The `votebot` command line: run, chat, diagram (and more as features land)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from bot.election import ConfigError, Election, load_election
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="votebot",
        description="Assistant Telegram pour les élections professionnelles. "
        "Sans sous-commande : Telegram si TELEGRAM_BOT_TOKEN est défini, sinon le chat local.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="serve voters on Telegram (long polling)")
    sub.add_parser("chat", help="chat with the bot in this terminal (stdin/stdout)")
    diagram = sub.add_parser("diagram", help="print a flow as a Mermaid diagram")
    diagram.add_argument("flow", help="flow name, e.g. webmel")
    return parser


def _startup(env_file: str | None = ".env") -> tuple[Settings, Election]:
    """Settings then election, each validated once; a bad value exits with one clear line."""
    try:
        settings = load_settings(env_file)
        election = load_election(settings.election)
    except (SettingsError, ConfigError) as exc:
        print(f"votebot: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.token)
    return settings, election


async def _chat(settings: Settings, election: Election) -> None:
    from bot.console import run_console
    from bot.services import Services

    services = await Services.open(settings, election)
    try:
        await run_console(services)
    finally:
        await services.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `votebot` and `python -m bot`."""
    args = _parser().parse_args(argv)
    if args.command == "diagram":
        from bot.diagram import mermaid
        from bot.flows import default_flows

        flows = default_flows()
        if args.flow not in flows:
            names = ", ".join(f.name for f in flows)
            print(f"votebot: unknown flow {args.flow!r} (flows: {names})", file=sys.stderr)
            return 2
        print(mermaid(flows[args.flow]))
        return 0
    settings, election = _startup()
    command = args.command or ("run" if settings.token else "chat")
    if command == "run":
        if not settings.token:
            print(
                "votebot: configuration error: TELEGRAM_BOT_TOKEN: required by 'run'",
                file=sys.stderr,
            )
            return 2
        from bot.telegram.app import run_polling

        run_polling(settings, election)
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_chat(settings, election))
    return 0
