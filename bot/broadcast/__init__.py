"""Broadcasts without Telegram: text checks and variables, audiences and times, the calendar
plan. The delivery worker (which calls Telegram) is bot/telegram/delivery.py."""

from bot.broadcast.choices import audience_choices, check_when, parse_audience, parse_when
from bot.broadcast.plan import PlannedReminder, default_plan, ensure_plan
from bot.broadcast.text import MAX_LENGTH, VARIABLES, Problem, Variables, check_html, check_text

__all__ = [
    "MAX_LENGTH",
    "VARIABLES",
    "PlannedReminder",
    "Problem",
    "Variables",
    "audience_choices",
    "check_html",
    "check_text",
    "check_when",
    "default_plan",
    "ensure_plan",
    "parse_audience",
    "parse_when",
]
