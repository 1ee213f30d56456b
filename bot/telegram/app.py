"""Build the python-telegram-bot Application; every handler is registered here, in order."""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.election import Election
from bot.services import Services
from bot.settings import Settings
from bot.telegram import admin
from bot.telegram import handlers as h

NAV_COMMANDS = ["start", "menu", "aide", "help"]


def register(app: Application) -> None:
    """Every handler, in the order it is tried."""
    app.add_handler(TypeHandler(Update, h.guard_private), group=-2)
    app.add_handler(ChatMemberHandler(h.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler(NAV_COMMANDS, h.on_command))
    # Staff commands: role-checked; refused users get the unknown-command answer.
    app.add_handler(CommandHandler("role", admin.on_role))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, h.on_edited))
    app.add_handler(MessageHandler(filters.COMMAND, h.on_command))
    app.add_handler(CallbackQueryHandler(h.on_button))
    app.add_handler(MessageHandler(filters.TEXT, h.on_text))
    app.add_handler(MessageHandler(filters.ALL, h.on_other))
    app.add_error_handler(h.on_error)
    # Front-end effects a flow step can request (Step.effect): name → async (update, context).
    app.bot_data["effects"] = {}


def build_application(
    settings: Settings,
    election: Election,
    services: Services | None = None,
    request: BaseRequest | None = None,
) -> Application:
    """The Application against `TELEGRAM_API_BASE_URL`; services open in post_init if absent."""
    assert settings.token, "TELEGRAM_BOT_TOKEN is required for the Telegram front end"
    base = settings.telegram_api_base_url

    async def post_init(app: Application) -> None:
        if "services" not in app.bot_data:
            app.bot_data["services"] = await Services.open(settings, election)
            app.bot_data["owns_services"] = True

    async def post_shutdown(app: Application) -> None:
        if app.bot_data.pop("owns_services", False):
            await app.bot_data.pop("services").close()

    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    if services is not None:
        app.bot_data["services"] = services
    register(app)
    return app


def run_polling(settings: Settings, election: Election) -> None:
    """Serve voters by long polling until interrupted (updates confirmed once handled)."""
    import asyncio

    from bot.telegram.polling import serve

    app = build_application(settings, election)
    asyncio.run(serve(app))


def run_webhook(settings: Settings, election: Election, url: str) -> None:
    """Serve voters from Telegram's webhook calls to `url` (checked with the secret token)."""
    from urllib.parse import urlsplit

    assert settings.webhook_secret, "VOTEBOT_WEBHOOK_SECRET is required in webhook mode"
    app = build_application(settings, election)
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(url).path.lstrip("/"),
        webhook_url=url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
    )
