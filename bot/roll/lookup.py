"""Looking a name up in the roll: from a question or a typed name to found or not.

Entry point for the intent router (intent `check_roll`)::

    state = await services.roll.entry(text, ctx)   # "roll.<state>", or None (no name found)
    return Route(goto=state or "roll.ask_name")

`entry` extracts the name from a question ("est-ce que Mme Lefèvre Anne-Sophie est sur la
liste ?" → "Lefèvre Anne-Sophie", see `extract_name`), then does exactly what typing that
name at the `roll.ask_name` step does: rate limit, look-up, audit log, results in ctx.data.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.categories import parse_query
from bot.flows import Context
from bot.flows.directory import CATEGORY, DEPARTEMENT
from bot.flows.roll import FOUND, LIMIT
from bot.roll.keys import MAX_TOKENS, NameKey, name_tokens, same_letters_in_some_order
from bot.textfold import fold
from store import Store

log = logging.getLogger("bot.roll")  # the roll's one logger, whatever the module

# -- extracting a name from a question -----------------------------------------------------

_FILLER = frozenset(
    """
    est ce que qu si il elle ils elles bien sur dans la le les l un une de du des d a au aux
    liste listes electorale electorales electoral inscrit inscrite inscrits inscrites figure
    figurent apparait apparaissent present presente presents presentes trouve trouver
    cherche chercher verifier verifie verifiez verif voir regarder savoir dire me moi m mr
    mme mlle melle monsieur madame mademoiselle messieurs mesdames dr docteur pouvez peux
    vous tu je j on nous svp stp merci bonjour bonsoir salut hello collegue collegues mon ma
    mes notre nos nom prenom appelle appel s agent agente personne qui quoi pour et ou y
    t rechercher recherche chez aesh aed atss cpe psy psyen pe avs prof profs professeur
    professeure enseignant enseignante instit instituteur institutrice assistant assistante
    surveillant surveillante vote votes voter election elections scrutin roll list check is
    the on
    """.split()  # noqa: SIM905
)
_CIVILITY = frozenset(
    ["m", "mr", "mme", "mlle", "melle", "monsieur", "madame", "mademoiselle", "dr", "docteur"]
)
_SEGMENTS = re.compile(r"[,;:?!()«»\"\n]+")


def _is_filler(word: str) -> bool:
    """Whether a word is civility, filler or a number rather than part of a name."""
    parts = fold(word).split()
    return not parts or all(p in _FILLER or p.isdigit() for p in parts)


def extract_name(text: str) -> str | None:
    """The person's name in a free-text question, without civility or filler words.

    "est-ce que Mme Lefèvre Anne-Sophie est sur la liste ?" → "Lefèvre Anne-Sophie". The
    first comma-separated part holding two name words wins (else one); None if none.
    """
    best: str | None = None
    for segment in _SEGMENTS.split(text):
        words = segment.split()
        while words and _is_filler(words[0]):
            civility = fold(words.pop(0)).strip() in _CIVILITY
            if civility:  # "Monsieur Le Goff": the name starts right after
                break
        while words and _is_filler(words[-1]):
            words.pop()
        if len(words) >= 2:
            return " ".join(words)
        if words and best is None:
            best = words[0]
    return best


# -- looking someone up --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The result of one look-up: found or not, and on which ballots (CLI and audit only).

    A voter is only told whether the name typed is on the roll, and for the ballot the guide
    names (`Election.roll_ballot`); never someone's other ballots, establishment or
    département, and never another name (no "did you mean").
    """

    status: str  # found, not_found, need_first_name, unavailable
    ballots: tuple[str, ...] = ()


async def find(store: Store, name: str) -> Answer:
    """Look a name up in the roll in service: an exact match of the normalised name only.

    Normalised for case, accents, ligatures, particles and word order, never for misspelling.
    """
    query = NameKey.of(name)
    if len(query.core) < 2 or len(query.tokens) > MAX_TOKENS:
        return Answer("need_first_name")
    matches = await store.roll_match(query.key, query.loose)
    entries = [e for e in matches if e.key == query.key]
    if not entries:
        entries = [
            e
            for e in matches
            if same_letters_in_some_order(
                query.tokens, tuple(name_tokens(f"{e.surname} {e.first_name}"))
            )
        ]
    if entries:
        return Answer("found", tuple(dict.fromkeys(e.ballot for e in entries)))
    if await store.roll_active() is None:
        return Answer("unavailable")
    return Answer("not_found")


def on_ballot(answer: Answer, roll_ballot: str) -> bool:
    """Whether a found name is on the roll of the ballot the guide names."""
    return any(fold(b) == fold(roll_ballot) for b in answer.ballots)


class RollLookup:
    """The chat side of the roll: rate limits, look-up, audit log, the result for templates.

    What the voter typed is never put in the conversation data, and no reply repeats it.
    """

    def __init__(
        self,
        store: Store,
        per_hour: int,
        per_day: int = 2000,
        roll_ballot: Callable[[], str] = lambda: "",
        alert_after: int = 3,
    ) -> None:
        self.store = store
        self.per_hour = per_hour
        self.per_day = per_day  # every voter together
        self.roll_ballot = roll_ballot  # the ballot the guide names (configuration)
        self.alert_after = alert_after  # refusals in a day before support is told
        # Set by a front end with a staff channel: (user id, refusals today) → tell support.
        self.alert: Callable[[int, int], Awaitable[None]] | None = None

    async def __call__(self, text: str, ctx: Context) -> str | None:
        """Text handler `roll_lookup`: the trigger naming the step to show."""
        name = extract_name(text) or ""
        rest = text.replace(name, " ") if name else text
        parsed = parse_query(rest) or (None, None)
        ctx.data[CATEGORY], ctx.data[DEPARTEMENT] = parsed
        for key in (FOUND, LIMIT):
            ctx.data.pop(key, None)
        if len(NameKey.of(name).core) < 2:
            return "need_first_name"
        user_id = ctx.user_id if ctx.user_id is not None else 0
        refused = await self._refusal(user_id, ctx)
        if refused is not None:
            return refused
        answer = await find(self.store, name)
        if answer.status == "unavailable":
            return "unavailable"
        await self.store.roll_log_lookup(user_id, ctx.now, answer.status == "found")
        if answer.status == "found":
            ballot = self.roll_ballot()
            ctx.data[FOUND] = {"ballot": ballot if on_ballot(answer, ballot) else None}
        return answer.status

    async def _refusal(self, user_id: int, ctx: Context) -> str | None:
        """ "rate_limited" (and why, in ctx.data) when a limit is reached, else None."""
        recent = await self.store.roll_lookups_since(user_id, ctx.now - timedelta(hours=1))
        if len(recent) >= self.per_hour:
            wait = recent[-self.per_hour] + timedelta(hours=1) - ctx.now
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            ctx.data[LIMIT] = {"kind": "user", "limit": self.per_hour, "wait": minutes}
        elif await self.store.roll_lookups_count(ctx.now - timedelta(days=1)) >= self.per_day:
            ctx.data[LIMIT] = {"kind": "global", "limit": self.per_day, "wait": 0}
        else:
            return None
        refusals = await self.store.roll_log_refusal(user_id, ctx.now, ctx.now - timedelta(days=1))
        if ctx.data[LIMIT]["kind"] == "user" and refusals == self.alert_after:
            ctx.data[LIMIT]["alert"] = True
            log.warning(
                "roll: user %s keeps hitting the look-up limit (%s refusals today)",
                user_id,
                refusals,
            )
            if self.alert is not None:
                await self.alert(user_id, refusals)
        return "rate_limited"

    async def entry(self, text: str, ctx: Context) -> str | None:
        """For the intent router: "roll.<state>" for a question naming someone, else None."""
        if extract_name(text) is None:
            return None
        trigger = await self(text, ctx)
        return f"roll.{trigger}" if trigger else None
