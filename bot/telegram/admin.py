"""Admin commands in Telegram: /role add|remove USER_ID ROLE, /role list, /election."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.auth import ADMIN
from bot.election import FACTS, ConfigError, Election, fact_value, format_fact
from bot.facts import check
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.delivery import Broadcaster
from bot.telegram.guards import requires
from bot.telegram.plan import follow_facts
from store.roles import ROLES

log = logging.getLogger(__name__)


@requires(ADMIN)
async def on_role(update: Update, context: Context) -> None:
    """Grants, revokes or lists roles."""
    services = h.services_of(context)
    args = context.args or []
    renderer = services.renderer
    assert update.effective_message is not None and update.effective_user is not None
    if args[:1] == ["list"]:
        rows = await services.store.list_roles()
        text = renderer.text("admin/role_list.html", {"rows": rows})
    elif (
        len(args) == 3 and args[0] in ("add", "remove") and args[1].isdigit() and args[2] in ROLES
    ):
        user_id, role = int(args[1]), args[2]
        if args[0] == "add":
            changed = await services.store.grant_role(
                user_id, role, update.effective_user.id, services.clock()
            )
        else:
            changed = await services.store.revoke_role(user_id, role)
        text = renderer.text(
            "admin/role_changed.html",
            {"action": args[0], "user_id": user_id, "role": role, "changed": changed},
        )
    else:
        text = renderer.text("admin/role_usage.html", {"roles": ROLES})
    await update.effective_message.reply_text(text)


@requires(ADMIN)
async def on_election(update: Update, context: Context) -> None:
    """Shows the election facts, sets one (/election set KEY VALUE) or lists the changes."""
    services = h.services_of(context)
    args = context.args or []
    renderer = services.renderer
    assert update.effective_message is not None and update.effective_user is not None
    if args[:1] == ["set"] and len(args) >= 3 and args[1] in FACTS:
        value = " ".join(args[2:])  # "2026-12-10 17:00" as well as "2026-12-10T17:00"
        old = services.election
        try:
            change = await services.set_fact(args[1], value, update.effective_user.id)
        except ConfigError as exc:
            text = renderer.text(
                "admin/election_refused.html", {"key": args[1], "error": str(exc)}
            )
        else:
            await follow_facts(services, old)
            text = renderer.text(
                "admin/election_set.html",
                {
                    "key": change.key,
                    "before": format_fact(change.before),
                    "after": format_fact(change.after),
                    "drafted": change.drafted,
                },
            )
    elif args[:1] == ["history"]:
        rows = await services.store.election_history(services.election.id)
        text = renderer.text("admin/election_history.html", {"rows": rows[-20:]})
    elif not args:
        text = renderer.text("admin/election.html", _facts(services))
    else:
        text = renderer.text("admin/election_usage.html", {"keys": list(FACTS)})
    await update.effective_message.reply_text(text)


def _facts(services: Services) -> dict[str, Any]:
    election = services.election
    rows = [(key, format_fact(fact_value(election, key))) for key in FACTS]
    return {"rows": rows, "check": check(election)}


REFRESH_SECONDS = 30  # facts set from the command line reach the running bot within this


async def refresh_live(context: Context) -> None:
    """Job: re-read election facts and the reminders switched on (changed from elsewhere)."""
    if context.bot_data.has_services:
        await context.bot_data.services.refresh_live()


def election_changed(worker: Broadcaster) -> Callable[[Election], None]:
    """A listener keeping the broadcast worker's variables ({date_cloture}) on new facts."""

    def listener(election: Election) -> None:
        worker.variables.election = election

    return listener


def roll_alert(bot: Bot, services: Services) -> Callable[[int, int], Awaitable[None]]:
    """The roll's note to support (staff group) about a user who keeps hitting the limit."""
    pending: set[asyncio.Task[None]] = set()

    async def send(user_id: int, refusals: int) -> None:
        chat = services.settings.support_chat
        if chat is None:
            return
        text = services.renderer.text(
            "support/roll_alert.html", {"user_id": user_id, "refusals": refusals}
        )
        try:
            await bot.send_message(chat, text)
        except TelegramError as exc:
            log.warning("roll alert not delivered to support: %s", exc)

    async def alert(user_id: int, refusals: int) -> None:
        # Sent beside the voter's turn, never holding it up.
        task = asyncio.get_running_loop().create_task(send(user_id, refusals))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return alert
