"""Build the python-telegram-bot Application; every handler is registered here, in order."""

from __future__ import annotations

from telegram import BotCommand, LinkPreviewOptions, Update
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
from bot.telegram import admin, broadcast, plan, support
from bot.telegram import directory as directory_jobs
from bot.telegram import handlers as h

# Telegram's command menu (labels in common/commands.html)
VOTER_COMMANDS = ["menu", "progression", "profil", "rappels", "aide", "start"]
NAV_COMMANDS = ["start", "menu", "aide", "help", "profil", "progression", "rappels"]


def register(app: Application) -> None:
    """Every handler, in the order it is tried.

    Groups run in order; within a group the first matching handler runs. -7..-6: the staff
    group; -5: private chats only; -4: /oubli and relay to support during a handoff; -3: text
    typed in the broadcast composer; 0: voters (commands, buttons, text, anything else).
    """
    # Support staff group (VOTEBOT_SUPPORT_CHAT): only support members are heard there; these
    # run before guard_private and every one of them stops the update.
    staff = support.setup(app.bot_data)
    staff_or_private = staff | filters.ChatType.PRIVATE
    app.add_handler(TypeHandler(Update, support.guard_staff), group=-7)
    for name, callback in (("fermer", support.on_close), ("bannir", support.on_ban)):
        app.add_handler(CommandHandler(name, support.stops(callback), filters=staff), group=-6)
    for name, callback in (
        ("stats", support.on_stats),
        ("bloques", support.on_stuck),
        ("voir", support.on_view),
    ):
        app.add_handler(
            CommandHandler(name, support.stops(callback), filters=staff_or_private), group=-6
        )
    app.add_handler(
        CallbackQueryHandler(support.stops(support.on_open_button), pattern=support.OPEN_PREFIX),
        group=-6,
    )
    app.add_handler(MessageHandler(staff, support.stops(support.on_staff_message)), group=-6)
    app.add_handler(TypeHandler(Update, support.ignore_staff_chat), group=-6)
    app.add_handler(TypeHandler(Update, h.guard_private), group=-5)
    # Voters: /oubli, then relay to support while a handoff is open (the bot stays quiet).
    app.add_handler(CommandHandler("oubli", support.stops(support.on_forget)), group=-4)
    app.add_handler(
        CallbackQueryHandler(
            support.stops(support.on_forget_button), pattern=support.FORGET_PREFIX
        ),
        group=-4,
    )
    app.add_handler(TypeHandler(Update, support.relay_voter), group=-4)
    # Text typed in the broadcast composer (/diffusion) stops here; other text goes on.
    composer_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(composer_text, broadcast.on_draft_text), group=-3)
    app.add_handler(ChatMemberHandler(h.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler(NAV_COMMANDS, h.on_command))
    # Staff commands: role-checked; refused users get the unknown-command answer.
    app.add_handler(CommandHandler("role", admin.on_role))
    app.add_handler(CommandHandler("diffusion", broadcast.on_compose))
    app.add_handler(CommandHandler("diffusions", broadcast.on_list))
    app.add_handler(CallbackQueryHandler(broadcast.on_button, pattern=r"^bc:"))
    app.add_handler(CommandHandler("calendrier", plan.on_calendar))
    app.add_handler(CallbackQueryHandler(plan.on_toggle, pattern=rf"^{plan.PREFIX}"))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, h.on_edited))
    app.add_handler(MessageHandler(filters.COMMAND, h.on_command))
    app.add_handler(CallbackQueryHandler(h.on_button))
    app.add_handler(MessageHandler(filters.TEXT, h.on_text))
    app.add_handler(MessageHandler(filters.ALL, h.on_other))
    app.add_error_handler(h.on_error)
    # Front-end effects a flow step can request (Step.effect): name → async (update, context).
    app.bot_data["effects"] = {"handoff": support.on_handoff}
    if app.job_queue is not None:
        # Retention: transcripts, closed handoffs, processed updates (VOTEBOT_RETENTION_DAYS).
        app.job_queue.run_repeating(support.purge_job, interval=3600, first=60, name="purge")
        # The directory may be replaced by `votebot directory import` while the bot runs.
        app.job_queue.run_repeating(
            directory_jobs.refresh_directory,
            interval=directory_jobs.REFRESH_SECONDS,
            first=directory_jobs.REFRESH_SECONDS,
            name="directory",
        )


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
        renderer = app.bot_data["services"].renderer
        await app.bot.set_my_commands(
            [
                BotCommand(name, renderer.label("common/commands.html", name))
                for name in VOTER_COMMANDS
            ]
        )
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
    """Serve voters by long polling until interrupted (updates confirmed once stored)."""
    import asyncio

    from bot.telegram.polling import serve

    app = build_application(settings, election)
    asyncio.run(serve(app))


def run_webhook(settings: Settings, election: Election, url: str) -> None:
    """Serve voters from Telegram's webhook calls to `url` (checked with the secret token);
    a call is answered once its update is stored in the inbox."""
    import asyncio
    from urllib.parse import urlsplit

    from bot.telegram.polling import serve
    from bot.telegram.webhook import webhook_source

    assert settings.webhook_secret, "VOTEBOT_WEBHOOK_SECRET is required in webhook mode"
    app = build_application(settings, election)
    source = webhook_source(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        path=urlsplit(url).path.strip("/"),
        url=url,
        secret=settings.webhook_secret.get_secret_value(),
    )
    asyncio.run(serve(app, source))
