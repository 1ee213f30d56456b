"""Monitoring for support members (staff group or private): /stats, /bloques, /voir."""

from __future__ import annotations

import asyncio
import html
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import support
from bot.stats import GUIDE_FUNNEL
from bot.telegram import handlers as h
from bot.telegram.context import Context
from bot.telegram.guards import SUPPORT, requires
from bot.telegram.handoff import OPEN_PREFIX

CHART = "support/chart.html"  # the chart's title and legend, as label blocks
STUCK_COUNTED = 10_000  # /bloques counts up to this many stuck voters, shows the first few


@requires(SUPPORT)
async def on_stats(update: Update, context: Context) -> None:
    """/stats: where voters are, completion, drop-off, handoffs; then the funnel as a chart."""
    services = h.services_of(context)
    message = update.effective_message
    assert message is not None
    stats = await support.collect_stats(services)
    figures = support.stats_context(stats)
    figures["labels"] = {  # where voters are now: step labels, not codes
        f"{flow}.{state}": support.step_label(services, flow, state)
        for flow, state, _ in stats.here[:5]
    }
    await message.reply_text(services.renderer.text("support/stats.html", figures))
    if stats.agents:
        await message.reply_text(services.renderer.text("support/agents.html", figures))
    keys = ("title", "legend", *(name for _, name in GUIDE_FUNNEL))
    labels = {k: html.unescape(services.renderer.label(CHART, k)) for k in keys}
    chart = await asyncio.to_thread(support.funnel_chart, stats, labels)  # ~0.1-1 s of drawing
    await message.reply_photo(chart, caption=services.renderer.text("support/stats_caption.html"))


@requires(SUPPORT)
async def on_stuck(update: Update, context: Context) -> None:
    """/bloques: voters without progress or often misunderstood, each with a take-over button."""
    services = h.services_of(context)
    message = update.effective_message
    assert message is not None
    everyone = await services.store.stuck_voters(
        support.stuck_since(services), support.MISUNDERSTOOD_MIN, STUCK_COUNTED
    )
    tz = services.election.tz
    voters = [
        replace(v, last_step_at=v.last_step_at.astimezone(tz) if v.last_step_at else None)
        for v in everyone[: support.STUCK_SHOWN]
    ]
    template = "support/stuck.html"
    text = services.renderer.text(
        template,
        {
            "voters": voters,
            "labels": {v.user_id: support.step_label(services, v.flow, v.state) for v in voters},
            "total": len(everyone),
            "hours": services.settings.stuck_hours,
            "missed_min": support.MISUNDERSTOOD_MIN,
        },
    )
    rows = [
        [
            InlineKeyboardButton(
                services.renderer.label(template, "open", {"voter": v}),
                callback_data=f"{OPEN_PREFIX}{v.user_id}",
            )
        ]
        for v in voters
    ]
    await message.reply_text(text, reply_markup=InlineKeyboardMarkup(rows) if rows else None)


@requires(SUPPORT)
async def on_view(update: Update, context: Context) -> None:
    """/voir: in a voter's topic without an id, else /voir ID or /voir Prénom."""
    services = h.services_of(context)
    message = update.effective_message
    assert message is not None
    query = " ".join(context.args or []).strip()
    user_id = int(query) if query.isdigit() else 0
    if not query and message.is_topic_message and message.message_thread_id is not None:
        handoff = await services.store.handoff_by_thread(message.message_thread_id)
        user_id = handoff.user_id if handoff else 0
    matches: list[tuple[int, str]] = []
    if query and not query.isdigit():
        matches = await services.store.find_voters(query[:64])
        if len(matches) == 1:
            user_id = matches[0][0]
    summary = await support.voter_summary(services, user_id, support.VOTER_LINES)
    context_ = summary or {
        "known": False,
        "user_id": query[:20],
        "query": query[:20],
        "matches": matches,
    }
    await message.reply_text(services.renderer.text("support/voter.html", context_))
