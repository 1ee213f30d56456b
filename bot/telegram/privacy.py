"""The voter's /oubli (erase everything, after confirmation) and the hourly retention purge."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import support
from bot.leases import Lease, hold
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.handoff import hand_back

log = logging.getLogger(__name__)
FORGET_PREFIX = "sup:forget:"


async def on_forget(update: Update, context: Context) -> None:
    """/oubli: asks the voter to confirm erasing everything the bot holds about them."""
    services = h.services_of(context)
    message = update.effective_message
    assert message is not None
    template = "support/forget_confirm.html"
    rows = [
        [
            InlineKeyboardButton(
                services.renderer.label(template, choice), callback_data=FORGET_PREFIX + choice
            )
        ]
        for choice in ("forget_yes", "forget_no")
    ]
    await message.reply_text(
        services.renderer.text(template), reply_markup=InlineKeyboardMarkup(rows)
    )


async def on_forget_button(update: Update, context: Context) -> None:
    """Erases the voter (every table, any open handoff closed) or keeps everything."""
    services = h.services_of(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    await query.answer()
    erase = query.data == FORGET_PREFIX + "forget_yes"
    if erase:
        async with services.engine.lock(user.id):
            handoff = await services.store.open_handoff_of(user.id)
            if handoff is not None:
                await hand_back(context, handoff, "forget", None)
            await services.store.erase_user(user.id)
            context.bot_data.relay_hold.warned.discard(user.id)
    text = services.renderer.text("support/forgotten.html", {"erased": erase})
    if query.message is not None:
        await context.bot.edit_message_text(text, user.id, query.message.message_id)


# -- retention -----------------------------------------------------------------------------

PURGE_INTERVAL_SECONDS = 3600
# Held from one run to the next (1.5 intervals), so other processes skip theirs.
PURGE_LEASE_SECONDS = PURGE_INTERVAL_SECONDS * 1.5


async def purge_job(context: Context) -> None:
    """Scheduled: delete transcripts, closed handoffs and processed updates past retention."""
    services = context.bot_data.services
    async with hold(
        Lease(services.store, "purge", PURGE_LEASE_SECONDS, clock=services.clock.real)
    ) as mine:
        if mine:  # once per interval across processes sharing the database
            removed = await support.purge(services)
            log.info("retention purge removed %s rows", removed)
