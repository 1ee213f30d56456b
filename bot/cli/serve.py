"""`votebot run` and `votebot chat`, and the start-up every command with services shares."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.election import ConfigError, Election, current_builtin, load_election
from bot.logs import configure_logging, mask
from bot.settings import PARIS, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `run` and `chat`."""
    run = sub.add_parser("run", help="serve voters on Telegram (long polling, or a webhook)")
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public https URL instead of polling "
        "(needs VOTEBOT_WEBHOOK_SECRET)",
    )
    sub.add_parser("chat", help="chat with the bot in this terminal (stdin/stdout)")


def startup(env_file: str | None = ".env") -> tuple[Settings, Election]:
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


def with_services(
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


def run(settings: Settings, election: Election, args: argparse.Namespace) -> int:
    """`votebot run [--webhook URL]`: serve voters on Telegram."""
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


async def chat(services: Services, args: argparse.Namespace) -> int:
    """`votebot chat`: the terminal front end on the same engine and store."""
    from bot.console import run_console

    await run_console(services)
    return 0
