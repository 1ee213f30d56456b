"""Logging set-up that never lets the bot token through."""

from __future__ import annotations

import logging

from bot.redact import redact


class RedactFilter(logging.Filter):
    """Mask the given secrets (the token) and anything a voter pasted (NUMEN, passwords)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
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


NOISY = (
    "httpx",
    "httpcore",
    "transitions",
    "tornado.access",
    "telegram.Bot",
    "telegram.ext.ExtBot",
)


def configure_logging(level: str, token: str | None, *secrets: str | None) -> None:
    """Log to stderr at `level`; HTTP client logs (which show request URLs) only on warnings.
    The token and any other `secrets` (the webhook secret) are masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter([s for s in (token, *secrets) if s]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs request URLs (with the token); PTB's bot loggers log every call's parameters
    # and results at DEBUG, i.e. what voters typed (a pasted NUMEN or password): never shown.
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
