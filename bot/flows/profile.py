"""Welcome and profile: category and département, each optional (/start, /profil).

Typed instead of pressed ("AESH", "je suis AESH dans le 94", "94"), the answer is read by the
text handler `profile_text` (bot/routing.py), which fills the profile and fires `q_<step>`.
"""

from bot.flows.base import Context, Flow, Step, Transition, set_profile
from bot.flows.conditions import CATEGORIES, DEPARTEMENTS

TEXT = "profile_text"
_CATEGORY_BUTTONS = (*CATEGORIES, "skip")
_DEPT_BUTTONS = (*(f"d{d}" for d in DEPARTEMENTS), "skip")


def _category_transitions(source: str) -> tuple[Transition, ...]:
    return tuple(
        Transition(c, source, "departement", after=(set_profile("category", c),))
        for c in CATEGORIES
    )


def _never_asked_about_reminders(ctx: Context) -> bool:
    return ctx.profile.get("reminders") is None


def _welcomed(ctx: Context) -> None:
    ctx.data["welcomed"] = True


FLOW = Flow(
    name="profile",
    initial="category",
    steps=(
        Step(
            "welcome",
            buttons=_CATEGORY_BUTTONS,
            goto={"skip": "reminders.ask"},
            enter=(_welcomed,),
            text=TEXT,
        ),
        Step("category", buttons=_CATEGORY_BUTTONS, goto={"skip": "menu.main"}, text=TEXT),
        Step("departement", buttons=_DEPT_BUTTONS, columns=3, text=TEXT),
        Step(
            "saved",
            buttons=("reminders", "edit"),
            goto={"reminders": "reminders.ask"},
            show={"reminders": _never_asked_about_reminders},
        ),
    ),
    transitions=(
        *_category_transitions("welcome"),
        *_category_transitions("category"),
        *(
            Transition(f"d{d}", "departement", "saved", after=(set_profile("departement", d),))
            for d in DEPARTEMENTS
        ),
        Transition("skip", "departement", "saved"),
        Transition("edit", "saved", "category"),
        *(
            Transition(f"q_{dest}", source, dest)
            for source in ("welcome", "category", "departement")
            for dest in ("departement", "saved")
        ),
    ),
)
