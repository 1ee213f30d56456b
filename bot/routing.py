"""The free-text router: a decision becomes a jump to a step, a clarify screen or the fallback.

It also gives text-waiting steps their context: a question typed where a name, a category or
a département is expected goes to the router instead (`QuestionGuard`), and a category or
département typed while the profile is unknown fills the profile (`profile_statement`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from functools import lru_cache

from bot.categories import CATEGORY_PATTERNS, DEPARTEMENT_PATTERNS, parse_query
from bot.engine import Route, TextHandler
from bot.flows import Context, Flows, Reply
from bot.flows.conditions import DEPARTEMENTS
from bot.flows.info import CLARIFY_TEXT, INTENT_STEPS, SUGGESTIONS
from bot.intent import Decision, classify, decide, model
from bot.intent.language import is_english
from bot.redact import redact
from bot.textfold import fold, padded
from store import Store

MISUNDERSTOOD_BEFORE_OFFER = 3
CLARIFY_TEXT_MAX = 300
# Steps of other features, used when those flows are installed.
HUMAN_REQUEST = "human.requested"
HUMAN_OFFER = "human.offer"
HUMAN_UNAVAILABLE = "human.unavailable"
MENU = "menu.main"
# "/menu" typed without its slash is a command, not a question (folded): data.
_MENU_WORDS = frozenset({"menu", "menu principal", "le menu", "accueil", "retour au menu"})
# Words that may surround a category or département in a statement about oneself
# ("je suis AESH dans le 94"): folded, data for `profile_statement`.
_STATEMENT_WORDS = frozenset(
    """
    je j suis moi c est ici en dans le la les l du de des d au a et mais bonjour salut
    bonsoir travaille exerce enseigne poste affecte affectee sur un une
    """.split()  # noqa: SIM905
)


@lru_cache(maxsize=256)  # a step's guard and then the router read the same message
def understood(text: str) -> Decision:
    """The decision for a message (classifier + thresholds)."""
    return decide(classify(text))


def profile_statement(text: str) -> tuple[str | None, str | None] | None:
    """(category, département) when the text only states them ("AESH", "je suis PE dans le 93").

    Only the académie's départements count; None when the text says anything more.
    """
    parsed = parse_query(text)
    if parsed is None:
        return None
    category, departement = parsed
    if departement not in DEPARTEMENTS:
        departement = None
    if category is None and departement is None:
        return None
    rest = padded(text)
    for _, pattern in (*CATEGORY_PATTERNS, *DEPARTEMENT_PATTERNS):
        rest = pattern.sub(" ", rest)
    if any(word not in _STATEMENT_WORDS for word in rest.split()):
        return None
    return category, departement


def fill_profile(ctx: Context, category: str | None, departement: str | None) -> str:
    """Store a stated category/département in the profile; the profile step to show next."""
    if category:
        ctx.profile["category"] = category
    if departement:
        ctx.profile["departement"] = departement
    return "departement" if ctx.profile.get("departement") is None else "saved"


def _only_unknown_fields(ctx: Context, category: str | None, departement: str | None) -> bool:
    """The statement fills empty profile fields only (else it is about someone else)."""
    given = {"category": category, "departement": departement}
    return all(not ctx.profile.get(field) for field, value in given.items() if value)


async def profile_text(text: str, ctx: Context) -> str | None:
    """Text handler of the profile steps: a stated category/département answers the step."""
    stated = profile_statement(text)
    if stated is None:
        return None
    return "q_" + fill_profile(ctx, *stated)


class QuestionGuard:
    """Wraps a step's text handler: a question goes to the router, never to the step.

    A question (an intent the classifier is sure of, other than the step's own) is not
    passed on: not looked up, not counted, not stored, not echoed.
    """

    def __init__(self, handler: TextHandler, own: Collection[str]) -> None:
        self.handler = handler
        self.own = frozenset(own)  # intents that are answers to this step ("aesh 93"...)

    async def __call__(self, text: str, ctx: Context) -> str | None:
        """The wrapped handler's trigger, or None for a question (or "menu" typed)."""
        if fold(text) in _MENU_WORDS:
            return None
        decision = understood(text)
        question = decision.kind == "answer" and decision.intent not in self.own
        if question and profile_statement(text) is None:
            return None
        return await self.handler(text, ctx)


def looks_like_a_name(name: str) -> bool:
    """A name holds a word the corpus never uses ("Lefèvre"), unlike "comment" or "ma"."""
    vocabulary = model().words.vocabulary
    return any(word not in vocabulary for word in fold(name).split() if not word.isdigit())


class Router:
    """Classifies free text and picks where the voter goes."""

    def __init__(
        self,
        flows: Flows,
        roll_entry: Callable[[str, Context], Awaitable[str | None]] | None = None,
        directory_entry: Callable[[str, Context], str] | None = None,
        extract_name: Callable[[str], str | None] | None = None,
    ) -> None:
        self.flows = flows
        self.roll_entry = roll_entry  # a question naming someone → the roll look-up's answer
        self.directory_entry = directory_entry  # "aesh 93" → the directory's answer
        self.extract_name = extract_name  # the name in a roll question, if any
        self.targets = dict(INTENT_STEPS)

    async def _refine(self, intent: str, text: str, ctx: Context) -> str | None:
        """A more precise step for intents that carry data (a name, a category)."""
        if intent == "human_help" and self._exists(HUMAN_REQUEST):
            return HUMAN_REQUEST if "support" in ctx.features else HUMAN_UNAVAILABLE
        if intent == "check_roll" and self.roll_entry is not None:
            name = self.extract_name(text) if self.extract_name else None
            if self.extract_name is None or (name and looks_like_a_name(name)):
                return await self.roll_entry(text, ctx)
        if intent == "colleague_missing_contact" and self.directory_entry is not None:
            return self.directory_entry(text, ctx)
        return None

    def _exists(self, target: str) -> bool:
        flow, _, state = target.partition(".")
        return flow in self.flows and (not state or self.flows.has(flow, state))

    async def __call__(self, text: str, ctx: Context) -> Route:
        """Where `text` leads."""
        ctx.data.pop(CLARIFY_TEXT, None)  # a message left unclarified is not kept
        if fold(text) in _MENU_WORDS and self._exists(MENU):
            ctx.data["misunderstood"] = 0
            return Route(goto=MENU, trigger="text:menu")
        stated = profile_statement(text)
        if stated is not None and _only_unknown_fields(ctx, *stated):
            ctx.data["misunderstood"] = 0
            return Route(goto="profile." + fill_profile(ctx, *stated), trigger="text:profile")
        decision = understood(text)
        english: tuple[Reply, ...] = ()
        if is_english(text):
            english = (Reply("info/english.html", {"topic": decision.intent}),)
        if decision.kind == "clarify":
            options = [i for i in decision.options if self._exists(self.targets.get(i, ""))]
            if len(options) >= 2:
                ctx.data["misunderstood"] = 0
                ctx.data[SUGGESTIONS] = options
                ctx.data[CLARIFY_TEXT] = redact(text)[0][:CLARIFY_TEXT_MAX]
                english = english and (Reply("info/english.html", {"topic": None}),)
                return Route(goto="info.clarify", replies=english, trigger="text:clarify")
        target = self.targets.get(decision.intent)
        if decision.kind != "fallback" and target and self._exists(target):
            ctx.data["misunderstood"] = 0
            target = await self._refine(decision.intent, text, ctx) or target
            return Route(goto=target, replies=english, trigger=f"text:{decision.intent}")
        misses = int(ctx.data.get("misunderstood", 0)) + 1
        ctx.data["misunderstood"] = misses
        support = "support" in ctx.features and self._exists(HUMAN_OFFER)
        if misses >= MISUNDERSTOOD_BEFORE_OFFER and support:
            ctx.data["misunderstood"] = 0
            return Route(goto=HUMAN_OFFER, trigger="text:misunderstood")
        return Route(goto="info.fallback", trigger="text:unknown")


def feedback_recorder(store: Store) -> Callable[[str, Context], Awaitable[None]]:
    """Press hook of the clarify screen: the chosen topic labels the voter's message."""

    async def record(trigger: str, ctx: Context) -> None:
        text = ctx.data.pop(CLARIFY_TEXT, None)
        if text and trigger in ctx.data.get(SUGGESTIONS, []):
            await store.add_intent_feedback(trigger, text, ctx.now)

    return record
