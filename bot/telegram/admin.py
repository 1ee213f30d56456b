"""Admin commands in Telegram: /role add|remove USER_ID ROLE, /role list."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.auth import ADMIN
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
