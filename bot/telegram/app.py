"""Build the python-telegram-bot Application; every handler is registered here, in order."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
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

from bot.broadcast import Variables
from bot.election import Election
from bot.leases import Lease
from bot.services import Services
from bot.settings import Settings
from bot.telegram import (
    admin,
    broadcast,
    diffusions,
    guards,
    handoff,
    helpdesk,
    monitor,
    plan,
    privacy,
    relay,
    safety,
    satisfaction,
)
from bot.telegram import directory as directory_jobs
from bot.telegram import handlers as h
from bot.telegram.context import CONTEXT_TYPES, App
from bot.telegram.delivery import Broadcaster
from bot.telegram.guards import stops
from bot.telegram.transport import AiohttpRequest

# A dead sender's broadcast lease expires after this; another process then takes over.
BROADCAST_LEASE_SECONDS = 10.0
# Telegram's command menu (labels in common/commands.html)
VOTER_COMMANDS = ["menu", "progression", "profil", "rappels", "aide", "start"]
NAV_COMMANDS = ["start", "menu", "aide", "help", "profil", "progression", "rappels"]


def register(app: App) -> None:
    """Every handler, in the order it is tried.

    Groups run in order; within a group the first matching handler runs. -9: the bot blocked or
    unblocked; -8: which chats are heard (bot/telegram/guards.py); -7..-6: the staff group; -5:
    private chats only; -4: /oubli, the rating of a closed handoff and relay to support during a
    handoff; -3: text typed in the broadcast composer; -2: a comment after a rating; 0: voters
    (commands, buttons, text, anything else).
    """
    # Support staff group (VOTEBOT_SUPPORT_CHAT): only support members are heard there; these
    # run before guard_private and every one of them stops the update.
    staff = app.bot_data.staff_chat
    # A voter blocking or unblocking the bot (even during a handoff, which swallows updates).
    app.add_handler(
        ChatMemberHandler(safety.on_membership, ChatMemberHandler.MY_CHAT_MEMBER), group=-9
    )
    # Every update kind: private chats, the staff group for support members, nothing else.
    app.add_handler(TypeHandler(Update, guards.guard_chats), group=-8)
    staff_or_private = staff | filters.ChatType.PRIVATE
    app.add_handler(TypeHandler(Update, guards.guard_staff), group=-7)
    for name, callback in (("fermer", handoff.on_close), ("bannir", handoff.on_ban)):
        app.add_handler(CommandHandler(name, stops(callback), filters=staff), group=-6)
    # The helpdesk: notes, hand-over, canned answers, the queue, staff help (staff group).
    for names, callback in (
        ("note", helpdesk.on_note),
        ("liberer", helpdesk.on_release),
        ("reponse", helpdesk.on_canned),
        ("file", helpdesk.on_queue),
        (("aide", "help"), helpdesk.on_staff_help),
    ):
        app.add_handler(CommandHandler(names, stops(callback), filters=staff), group=-6)
    app.add_handler(
        CallbackQueryHandler(
            stops(helpdesk.on_claim_button), pattern=rf"^{helpdesk.CLAIM_PREFIX}"
        ),
        group=-6,
    )
    for name, monitoring in (
        ("debannir", safety.on_unban),
        ("stats", monitor.on_stats),
        ("bloques", monitor.on_stuck),
        ("voir", monitor.on_view),
    ):
        app.add_handler(
            CommandHandler(name, stops(monitoring), filters=staff_or_private), group=-6
        )
    app.add_handler(
        CallbackQueryHandler(stops(handoff.on_open_button), pattern=handoff.OPEN_PREFIX),
        group=-6,
    )
    app.add_handler(MessageHandler(staff, stops(relay.on_staff_message)), group=-6)
    app.add_handler(TypeHandler(Update, guards.ignore_staff_chat), group=-6)
    app.add_handler(TypeHandler(Update, h.guard_private), group=-5)
    # Voters: /oubli, then relay to support while a handoff is open (the bot stays quiet).
    app.add_handler(CommandHandler("oubli", stops(privacy.on_forget)), group=-4)
    app.add_handler(
        CallbackQueryHandler(stops(privacy.on_forget_button), pattern=privacy.FORGET_PREFIX),
        group=-4,
    )
    app.add_handler(
        CallbackQueryHandler(satisfaction.on_rate_button, pattern=rf"^{satisfaction.RATE_PREFIX}"),
        group=-4,
    )
    app.add_handler(TypeHandler(Update, relay.relay_voter), group=-4)
    # The optional comment after rating a closed handoff: the voter's next message, unless it
    # is a command (which then goes on as usual).
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, satisfaction.on_comment),
        group=-2,
    )
    # Text typed in the broadcast composer (/diffusion) stops here; other text goes on.
    composer_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(composer_text, broadcast.on_draft_text), group=-3)
    app.add_handler(ChatMemberHandler(h.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler(NAV_COMMANDS, h.on_command))
    # Staff commands: role-checked; refused users get the unknown-command answer.
    app.add_handler(CommandHandler("role", admin.on_role))
    app.add_handler(CommandHandler("election", admin.on_election))
    app.add_handler(CommandHandler("diffusion", broadcast.on_compose))
    app.add_handler(CommandHandler("diffusions", diffusions.on_list))
    app.add_handler(CallbackQueryHandler(diffusions.on_button, pattern=diffusions.PATTERN))
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
    app.bot_data.effects["handoff"] = handoff.on_handoff
    if app.job_queue is not None:
        # Retention: transcripts, closed handoffs, processed updates (VOTEBOT_RETENTION_DAYS).
        app.job_queue.run_repeating(
            privacy.purge_job, interval=privacy.PURGE_INTERVAL_SECONDS, first=60, name="purge"
        )
        # Voters waiting too long for an answer (VOTEBOT_SUPPORT_ALERT_MINUTES).
        app.job_queue.run_repeating(helpdesk.alert_job, interval=60, first=60, name="alerts")
        # The directory may be replaced by `votebot directory import` while the bot runs.
        app.job_queue.run_repeating(
            directory_jobs.refresh_directory,
            interval=directory_jobs.REFRESH_SECONDS,
            first=directory_jobs.REFRESH_SECONDS,
            name="directory",
        )
        # Election facts may be set by `votebot election set` while the bot runs.
        app.job_queue.run_repeating(
            admin.refresh_live, interval=admin.REFRESH_SECONDS, first=1, name="election"
        )


def build_application(
    settings: Settings,
    election: Election,
    services: Services | None = None,
    request: BaseRequest | None = None,
) -> App:
    """The Application against `TELEGRAM_API_BASE_URL`; services open in post_init if absent."""
    assert settings.token, "TELEGRAM_BOT_TOKEN is required for the Telegram front end"
    base = settings.telegram_api_base_url

    async def post_init(app: App) -> None:
        if not app.bot_data.has_services:
            app.bot_data.services = await Services.open(settings, election)
            app.bot_data.owns_services = True
        services = app.bot_data.services
        await services.warm_up()
        renderer = services.renderer
        await app.bot.set_my_commands(
            [
                BotCommand(name, renderer.label("common/commands.html", name))
                for name in VOTER_COMMANDS
            ]
        )
        if settings.support_chat is not None:  # staff commands in the staff group's menu
            await app.bot.set_my_commands(
                [
                    BotCommand(name, renderer.label("support/commands.html", name))
                    for name in helpdesk.STAFF_COMMANDS
                ],
                scope=BotCommandScopeChat(settings.support_chat),
            )
        worker = Broadcaster(
            services.store,
            app.bot,
            Variables(services.renderer, services.election),
            services.renderer,
            services.clock,
            rate=settings.broadcast_rate,
        )
        worker.lease = Lease(
            services.store, "broadcast", BROADCAST_LEASE_SECONDS, clock=services.clock.real
        )
        app.bot_data.broadcaster = worker
        services.election_listeners.append(admin.election_changed(worker))
        if services.roll is not None:
            services.roll.alert = admin.roll_alert(app.bot, services)
        worker.start()

    async def post_shutdown(app: App) -> None:
        worker, app.bot_data.broadcaster = app.bot_data.broadcaster, None
        if worker is not None:
            await worker.stop()
            if worker.lease is not None:
                await worker.lease.release()  # another process takes over at once
        if app.bot_data.owns_services:
            await app.bot_data.services.close()
            app.bot_data.services, app.bot_data.owns_services = None, False

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
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connections=1)
        )
    app = builder.build()
    if services is not None:
        app.bot_data.services = services
    register(app)
    return app


def run_polling(settings: Settings, election: Election) -> None:
    """Serve voters by long polling until interrupted (updates confirmed once stored)."""
    from bot.loop import run
    from bot.telegram.polling import serve

    app = build_application(settings, election)
    run(serve(app))


def run_webhook(settings: Settings, election: Election, url: str) -> None:
    """Serve voters from Telegram's webhook calls to `url` (bot/telegram/webhook.py: the
    secret is checked before a body is read, bodies capped at VOTEBOT_WEBHOOK_MAX_BODY, a call
    answered once its update is stored in the inbox)."""
    from urllib.parse import urlsplit

    from bot.loop import run
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
        max_body=settings.webhook_max_body,
    )
    run(serve(app, source))
