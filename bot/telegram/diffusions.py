"""/diffusions for broadcasters and admins: the list (authors, pages), each broadcast's figures,
and cancelling — by its author or an admin only — from the list or the ⏹ progress button."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot.auth import ADMIN, has_role
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.broadcast_ui import BROADCASTER, Rows, say
from bot.telegram.context import Context
from bot.telegram.guards import requires
from store import Broadcast

PAGE = 5  # broadcasts per /diffusions page
FOLLOW_UP = timedelta(hours=24)  # "voted within 24 h of the broadcast"
PATTERN = r"^bc:(show|page|cancel):"


@requires(BROADCASTER)
async def on_button(update: Update, context: Context) -> None:
    """A list, figures or progress button: bc:show:ID, bc:page:N, bc:cancel:ID."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _, action, value = (query.data or "").split(":", 2)
    if not value.isdigit():
        return
    if action == "show":
        await _show(update, context, int(value))
    elif action == "page":
        await _list_page(update, context, int(value))
    else:
        await _cancel(update, context, int(value))


@requires(BROADCASTER)
async def on_list(update: Update, context: Context) -> None:
    """Lists the latest broadcasts (author, state) with a button to inspect each."""
    await _list_page(update, context, 0)


async def _list_page(update: Update, context: Context, page: int) -> None:
    services = h.services_of(context)
    store = services.store
    total = await store.count_broadcasts()
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 0), pages - 1)
    rows = await store.list_broadcasts(limit=PAGE, offset=page * PAGE)
    authors = {b.id: await _author(services, b) for b in rows}
    buttons: Rows = [
        [("show", str(b.id)) for b in rows[i : i + 4]] for i in range(0, len(rows), 4)
    ]
    nav: list[tuple[str, str | None]] = [
        ("page", str(p)) for p in (page - 1, page + 1) if 0 <= p < pages
    ]
    if nav:
        buttons.append(nav)
    ctx = {"rows": rows, "authors": authors, "page": page + 1, "pages": pages, "total": total}
    await say(update, context, "broadcast/list.html", ctx, buttons)


async def _author(services: Services, b: Broadcast) -> str:
    """Who wrote a broadcast: a first name, an id, "" for the CLI or the calendar."""
    if b.created_by is None:
        return ""
    user = await services.store.get_user(b.created_by)
    return user.first_name if user is not None and user.first_name else str(b.created_by)


async def _may_cancel(services: Services, user_id: int, b: Broadcast) -> bool:
    """Only its author cancels a broadcast, and admins any (calendar reminders: admins only)."""
    if await has_role(services, user_id, ADMIN):
        return True
    return b.plan_key is None and b.created_by == user_id


async def _cancel(update: Update, context: Context, broadcast_id: int) -> None:
    services = h.services_of(context)
    assert update.effective_user is not None
    b = await services.store.get_broadcast(broadcast_id)
    if b is None or not await _may_cancel(services, update.effective_user.id, b):
        await say(update, context, "broadcast/not_yours.html")
        return
    cancelled = await services.store.cancel_broadcast(b.id, services.clock())
    worker = context.bot_data.broadcaster
    if worker is not None:
        worker.wake()
    query = update.callback_query
    message = query.message if query is not None else None
    on_progress = message is not None and message.message_id == b.report_message
    if not (cancelled and on_progress):  # the worker updates the progress message itself
        await _show(update, context, b.id)


async def _show(update: Update, context: Context, broadcast_id: int) -> None:
    services = h.services_of(context)
    assert update.effective_user is not None
    b = await services.store.get_broadcast(broadcast_id)
    if b is None:
        await say(update, context, "broadcast/button_expired.html", {"has_draft": False})
        return
    counts = await services.store.broadcast_counts(b.id)
    optouts, voted = await services.store.broadcast_followup(b.id, FOLLOW_UP)
    open_ = b.state in ("planned", "scheduled", "sending")
    may = open_ and await _may_cancel(services, update.effective_user.id, b)
    rows: Rows = [[("cancel", str(b.id))]] if may else []
    ctx = {
        "b": b,
        "counts": counts,
        "author": await _author(services, b),
        "optouts": optouts,
        "voted": voted,
    }
    await say(update, context, "broadcast/show.html", ctx, rows)
