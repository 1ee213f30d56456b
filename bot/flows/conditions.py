"""Pure conditions on the context, shared by flows."""

from __future__ import annotations

from bot.flows.base import Condition, Context

CATEGORIES = ("premier_degre", "second_degre", "aed", "aesh", "atss")
DEPARTEMENTS = ("77", "93", "94")
PASSWORD_RULES = ("length", "upper", "lower", "digit", "special")


def phase_in(*phases: str) -> Condition:
    """True when the election is in one of `phases`."""

    def condition(ctx: Context) -> bool:
        return ctx.phase in phases

    condition.__name__ = "phase_in_" + "_".join(phases)
    return condition


def all_password_rules_ticked(ctx: Context) -> bool:
    """True when the voter ticked every password rule."""
    ticked = ctx.data.get("password_rules", [])
    return all(rule in ticked for rule in PASSWORD_RULES)


def done(item: str) -> Condition:
    """True once a checklist item is done."""

    def condition(ctx: Context) -> bool:
        return item in ctx.progress

    condition.__name__ = f"done_{item}"
    return condition


def feature(name: str) -> Condition:
    """True when an optional service is switched on in this deployment."""

    def condition(ctx: Context) -> bool:
        return name in ctx.features

    condition.__name__ = f"feature_{name}"
    return condition
