"""The `votebot` command line; each subcommand is one `_cmd_*` function, wired in `_parser`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.election import ConfigError, Election, load_election
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings


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
    role = sub.add_parser("role", help="grant, revoke or list roles (broadcaster, support)")
    role.add_argument("action", choices=["add", "remove", "list"])
    role.add_argument("user_id", nargs="?", type=int)
    role.add_argument("role", nargs="?")
    return parser


def _startup(env_file: str | None = ".env") -> tuple[Settings, Election]:
    """Settings then election, each validated once; a bad value exits with one clear line."""
    try:
        settings = load_settings(env_file)
        election = load_election(settings.election)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `votebot` and `python -m bot`."""
    args = _parser().parse_args(argv)
    if args.command == "diagram":
        return _cmd_diagram(args)
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

            run_webhook(settings, election, webhook)
            return 0
        from bot.telegram.app import run_polling

        run_polling(settings, election)
        return 0
    handlers: dict[str, Callable[..., Awaitable[int]]] = {
        "chat": _cmd_chat,
        "role": _cmd_role,
    }
    return _with_services(settings, election, handlers[command], args)
