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

from bot.broadcast import Broadcaster, Variables
from bot.election import Election
from bot.services import Services
from bot.settings import Settings
from bot.telegram import admin, broadcast
from bot.telegram import handlers as h

NAV_COMMANDS = ["start", "menu", "aide", "help"]


def register(app: Application) -> None:
    """Every handler, in the order it is tried."""
    app.add_handler(TypeHandler(Update, h.guard_private), group=-2)
    # Text typed in the broadcast composer (/diffusion) stops here; other text goes on.
    composer_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(composer_text, broadcast.on_draft_text), group=-1)
    app.add_handler(ChatMemberHandler(h.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler(NAV_COMMANDS, h.on_command))
    # Staff commands: role-checked; refused users get the unknown-command answer.
    app.add_handler(CommandHandler("role", admin.on_role))
    app.add_handler(CommandHandler("diffusion", broadcast.on_compose))
    app.add_handler(CommandHandler("diffusions", broadcast.on_list))
    app.add_handler(CallbackQueryHandler(broadcast.on_button, pattern=r"^bc:"))
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
        services = app.bot_data["services"]
        worker = Broadcaster(
            services.store,
            app.bot,
            Variables(services.renderer, services.election),
            services.renderer,
            services.engine.clock,
            rate=settings.broadcast_rate,
        )
        app.bot_data["broadcaster"] = worker
        worker.start()

    async def post_shutdown(app: Application) -> None:
        worker = app.bot_data.pop("broadcaster", None)
        if worker is not None:
            await worker.stop()
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
    """Serve voters by long polling until interrupted."""
    app = build_application(settings, election)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
