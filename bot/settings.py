"""Settings read once from the environment or `.env`, validated, then passed down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from store.db import is_postgres_url

PARIS = ZoneInfo("Europe/Paris")


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


class Settings(BaseSettings):
    """Every knob of the bot, one environment variable each (see `.env.example`)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_BASE_URL")
    db: str = Field("votebot.sqlite3", alias="VOTEBOT_DB")  # SQLite file or postgresql:// URL
    # None: the built-in configuration whose vote has not closed yet (bot.election).
    election: str | None = Field(None, alias="VOTEBOT_ELECTION")
    admins: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="VOTEBOT_ADMINS")
    now: datetime | None = Field(None, alias="VOTEBOT_NOW")
    log_level: str = Field("INFO", alias="VOTEBOT_LOG_LEVEL")
    support_chat: int | None = Field(None, alias="VOTEBOT_SUPPORT_CHAT")
    support_sign_name: bool = Field(False, alias="VOTEBOT_SUPPORT_SIGN_NAME")
    stuck_hours: int = Field(48, ge=1, alias="VOTEBOT_STUCK_HOURS")
    support_alert_minutes: int = Field(15, ge=0, alias="VOTEBOT_SUPPORT_ALERT_MINUTES")
    retention_days: int = Field(30, ge=1, alias="VOTEBOT_RETENTION_DAYS")
    roll_lookups_per_hour: int = Field(20, ge=1, alias="VOTEBOT_ROLL_LOOKUPS_PER_HOUR")
    handoffs_per_hour: int = Field(3, ge=1, alias="VOTEBOT_HANDOFFS_PER_HOUR")
    webhook_max_body: int = Field(1_000_000, ge=10_000, alias="VOTEBOT_WEBHOOK_MAX_BODY")
    roll_lookups_per_day: int = Field(2000, ge=1, alias="VOTEBOT_ROLL_LOOKUPS_PER_DAY")
    broadcast_rate: float = Field(25.0, alias="VOTEBOT_BROADCAST_RATE", gt=0, le=30)
    # A folder of operator templates overriding the built-in ones (beats the configuration's).
    texts_dir: Path | None = Field(None, alias="VOTEBOT_TEXTS_DIR")
    webhook_secret: SecretStr | None = Field(None, alias="VOTEBOT_WEBHOOK_SECRET")
    webhook_listen: str = Field("127.0.0.1", alias="VOTEBOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="VOTEBOT_WEBHOOK_PORT", ge=1, le=65535)

    @field_validator("election", "texts_dir", "now", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in (None, "") else value

    @field_validator("texts_dir")
    @classmethod
    def _texts_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("expected a folder of templates")
        return value

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value).strip()
        head, _, tail = text.partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("expected the form <digits>:<secret> given by @BotFather")
        return text

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value)
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if not 16 <= len(text) <= 256 or set(text) - allowed:
            raise ValueError("expected 16-256 characters among A-Z, a-z, 0-9, _ and -")
        return text

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated Telegram user ids, e.g. 12345,67890")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("support_chat", mode="before")
    @classmethod
    def _support_chat(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not str(value).strip().startswith("-100"):
            raise ValueError("expected a supergroup id such as -1001234567890")
        return value

    @field_validator("now")
    @classmethod
    def _now(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=PARIS)
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("db")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a SQLite file path or a postgresql:// URL")
        if "://" in value and not is_postgres_url(value):
            raise ValueError("expected a SQLite file path or a postgresql://user@host/db URL")
        return value

    @property
    def db_path(self) -> Path:
        """The SQLite database file (when VOTEBOT_DB is not a PostgreSQL URL)."""
        if is_postgres_url(self.db):
            raise SettingsError("VOTEBOT_DB: a PostgreSQL URL, not a SQLite file")
        return Path(self.db)

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the Telegram client only."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Build the settings once; a bad value raises `SettingsError` naming the variable."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg, arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
        message = str(err["msg"]).removeprefix("Value error, ")
        shown = err.get("input")
        if alias in ("TELEGRAM_BOT_TOKEN", "VOTEBOT_WEBHOOK_SECRET", "VOTEBOT_DB"):
            shown = "***"
        raise SettingsError(f"{alias or field}: {message} (got {shown!r})") from None
