"""Admin commands in Telegram: /role add|remove USER_ID ROLE, /role list, /election."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.auth import ADMIN
from bot.broadcast import Broadcaster
from bot.election import FACTS, ConfigError, Election, fact_value, format_fact
from bot.facts import check
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.guards import requires
from store.roles import ROLES


@requires(ADMIN)
async def on_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
                user_id, role, update.effective_user.id, services.engine.clock()
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
async def on_election(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the election facts, sets one (/election set KEY VALUE) or lists the changes."""
    services = h.services_of(context)
    args = context.args or []
    renderer = services.renderer
    assert update.effective_message is not None and update.effective_user is not None
    if args[:1] == ["set"] and len(args) == 3 and args[1] in FACTS:
        try:
            change = await services.set_fact(args[1], args[2], update.effective_user.id)
        except ConfigError as exc:
            text = renderer.text(
                "admin/election_refused.html", {"key": args[1], "error": str(exc)}
            )
        else:
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


async def refresh_live(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: re-read election facts and the reminders switched on (changed from elsewhere)."""
    services = context.application.bot_data.get("services")
    if services is not None:
        await services.refresh_live()


def election_changed(worker: Broadcaster) -> Callable[[Election], None]:
    """A listener keeping the broadcast worker's variables ({date_cloture}) on new facts."""

    def listener(election: Election) -> None:
        worker.variables.election = election

    return listener
