"""Logging set-up that lets neither the token nor what voters wrote through.

Three layers, whatever `VOTEBOT_LOG_LEVEL` says:
- library loggers that echo data (SQL statements with their parameters, update bodies, HTTP
  request URLs holding the token, API call parameters) are capped at WARNING;
- a library record that still gets through never shows its arguments (an update, a body, a
  wrong webhook secret): they are replaced by "<hidden>";
- every record is masked of the token, the webhook secret and anything that looks like a
  NUMEN, password or vote code.
"""

from __future__ import annotations

import logging

from bot.redact import redact

HIDDEN = "<hidden>"
# Loggers capped at WARNING, and what they would show at DEBUG or INFO.
NOISY = (
    "httpx",  # request URLs, which hold the token
    "httpcore",
    "aiohttp",  # the client under PTB (bot/telegram/transport.py): URLs hold the token
    "transitions",
    "tornado.access",
    "tornado",
    "telegram.Bot",  # every API call with its parameters and result
    "telegram.ext.ExtBot",
    "telegram.ext.Application",  # "Processing update <the whole update>"
    "telegram.ext.Updater",  # the webhook server: request bodies, wrong secret values
    "aiosqlite",  # every statement executed, with its parameters
    "asyncpg",
    "asyncio",
    "apscheduler",  # job scheduling chatter
)
# Loggers of the libraries: their records keep their text but never their arguments.
LIBRARIES = (
    "telegram", "aiosqlite", "asyncpg", "httpx", "httpcore", "tornado", "transitions", "asyncio",
    "apscheduler",
)  # fmt: skip
_PLAIN = (int, float, bool, type(None))


def _shown(value: object) -> object:
    return value if isinstance(value, _PLAIN) else HIDDEN


class RedactFilter(logging.Filter):
    """Mask the given secrets (the token) and anything a voter pasted (NUMEN, passwords);
    hide the arguments of library records (they may hold updates, bodies, SQL parameters)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.split(".")[0] in LIBRARIES
        if library and record.exc_info and type(record.exc_info[1]).__name__ == "InvalidToken":
            return False  # `votebot run` says it in one line (bot/cli.py)
        if library and record.args:
            if isinstance(record.args, dict) and "%(" in str(record.msg):
                record.args = {k: _shown(v) for k, v in record.args.items()}
            elif isinstance(record.args, dict):  # one dict argument (an update, a body)
                record.args = (HIDDEN,)
            else:
                record.args = tuple(_shown(a) for a in record.args)
        message = record.getMessage()
        cleaned, found = redact(message)
        if found:
            record.msg, record.args, message = cleaned, None, cleaned
        if not self.secrets:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if any(s in message or (record.exc_text and s in record.exc_text) for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
                if record.exc_text:
                    record.exc_text = record.exc_text.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def mask(text: str, *secrets: str | None) -> str:
    """`text` with each of `secrets` (the token, its numeric id part excluded) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def configure_logging(level: str, token: str | None, *secrets: str | None) -> None:
    """Log to stderr at `level`; data-echoing library loggers only on warnings.
    The token and any other `secrets` (the webhook secret) are masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter([s for s in (token, *secrets) if s]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
