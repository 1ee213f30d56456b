"""Whom to write to when a colleague is missing from the roll: category → département → address.

Free text typed at any step ("aesh 93", "prof des écoles du 94") is parsed by the text
handler `directory_query` (bot/directory.py), which fires one of the `q_*` triggers.
"""

from bot.flows.base import Action, Context, Flow, Step, Transition

CATEGORY = "dir_category"
DEPARTEMENT = "dir_departement"
CATEGORIES = ("premier_degre", "second_degre", "aed", "aesh", "atss")
BY_DEPARTEMENT = ("premier_degre", "aesh")  # the address depends on the département
DEPARTEMENTS = ("77", "93", "94")
TEXT = "directory_query"
QUERIES = {
    "q_address": "address",
    "q_departement": "departement",
    "q_category_in_dep": "category_in_dep",
}


def set_data(key: str, value: str | None) -> Action:
    """An action storing one value in the flow data."""

    def action(ctx: Context) -> None:
        ctx.data[key] = value

    action.__name__ = f"set_{key}_{value}"
    return action


def clear_data(*keys: str) -> Action:
    """An action forgetting values of the flow data."""

    def action(ctx: Context) -> None:
        for key in keys:
            ctx.data.pop(key, None)

    action.__name__ = "clear_" + "_".join(keys)
    return action


def has_departement(ctx: Context) -> bool:
    """The département is already known (typed, or chosen before)."""
    return bool(ctx.data.get(DEPARTEMENT))


def _choose_category(source: str) -> tuple[Transition, ...]:
    found = []
    for cat in CATEGORIES:
        if cat in BY_DEPARTEMENT:
            found.append(
                Transition(
                    cat, source, "address", (has_departement,), after=(set_data(CATEGORY, cat),)
                )
            )
            found.append(Transition(cat, source, "departement", after=(set_data(CATEGORY, cat),)))
        else:
            found.append(
                Transition(
                    cat,
                    source,
                    "address",
                    after=(set_data(CATEGORY, cat), set_data(DEPARTEMENT, None)),
                )
            )
    return tuple(found)


STEPS = (
    Step("category", buttons=CATEGORIES, text=TEXT, enter=(clear_data(CATEGORY, DEPARTEMENT),)),
    Step("category_in_dep", buttons=CATEGORIES, text=TEXT, enter=(clear_data(CATEGORY),)),
    Step("departement", buttons=tuple(f"d{d}" for d in DEPARTEMENTS), text=TEXT),
    Step("address", buttons=("other",), text=TEXT),
)

FLOW = Flow(
    name="directory",
    initial="category",
    steps=STEPS,
    transitions=(
        *_choose_category("category"),
        *_choose_category("category_in_dep"),
        *(
            Transition(f"d{d}", "departement", "address", after=(set_data(DEPARTEMENT, d),))
            for d in DEPARTEMENTS
        ),
        Transition("other", "address", "category"),
        *(
            Transition(trigger, step.name, dest)
            for step in STEPS
            for trigger, dest in QUERIES.items()
        ),
    ),
)
