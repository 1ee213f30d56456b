"""The electoral roll: name matching, name extraction, the look-up service and the import.

Matching. A name becomes tokens: lower case, accents and ligatures (Œ, Æ) folded, hyphens,
spaces and punctuation as separators, apostrophes removed inside names (N'DIAYE = Ndiaye)
while a leading d'/l' is a particle. `key` is the sorted tokens without particles (de, du,
des, d', le, la, les, l'...), so "LEFEVRE ANNE SOPHIE" and "Anne-Sophie Lefèvre" share it;
`loose` is the sorted letters with particles kept, for names written with or without a space
("Le Goff" = "LEGOFF", "Anne Sophie" = "Annesophie"), confirmed on the token order. Both are
stored per entry and indexed, so a look-up is one or two index probes.

Entry point for the intent router (intent `check_roll`)::

    state = await services.roll.entry(text, ctx)   # "roll.<state>", or None (no name found)
    return Route(goto=state or "roll.ask_name")

`entry` extracts the name from a question ("est-ce que Mme Lefèvre Anne-Sophie est sur la
liste ?" → "Lefèvre Anne-Sophie", see `extract_name`), then does exactly what typing that
name at the `roll.ask_name` step does: rate limit, look-up, audit log, results in ctx.data.
"""

from __future__ import annotations

import csv
import logging
import math
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import permutations
from pathlib import Path
from typing import Any, BinaryIO

from bot.directory import fold, parse_directory_query
from bot.election import Category
from bot.flows import Context
from bot.flows.directory import CATEGORY, DEPARTEMENT
from bot.flows.roll import FOUND, LIMIT
from bot.localtime import paris
from store import Store

log = logging.getLogger(__name__)

PARTICLES = frozenset("de du des d le la les l van von der den da di del della dos das".split())  # noqa: SIM905
_LIGATURES = str.maketrans(  # data: ligatures and letters NFKD does not decompose
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "ı": "i"}
)  # fmt: skip
_MARKS = re.compile(r"[\u0300-\u036f]")
_APOSTROPHES = re.compile(r"[’ʼ`´‘ʻ]")
_PARTICLE_APOSTROPHE = re.compile(r"\b([dl])'")
_TOKEN = re.compile(r"[^\W_]+")
MAX_TOKENS = 8


def name_tokens(text: str) -> list[str]:
    """Folded tokens of a name, particles included, in the order written."""
    text = text.translate(_LIGATURES)
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
        text = _APOSTROPHES.sub("'", text)
    text = text.casefold()
    if "'" in text:
        text = _PARTICLE_APOSTROPHE.sub(r"\1 ", text).replace("'", "")
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class NameKey:
    """The normalised forms of a name used for matching."""

    tokens: tuple[str, ...]  # every token, in the order written
    core: tuple[str, ...]  # tokens without particles, sorted

    @classmethod
    def of(cls, text: str) -> NameKey:
        """The key of a name (surname and first names in any order)."""
        tokens = tuple(name_tokens(text))
        core = [t for t in tokens if t not in PARTICLES]
        if len(core) < 2:  # "Lê Chloé", "Le Anne": the "particle" is the name itself
            core = list(tokens)
        return cls(tokens, tuple(sorted(core)))

    @property
    def key(self) -> str:
        """Sorted tokens without particles: the exact index."""
        return " ".join(self.core)

    @property
    def loose(self) -> str:
        """Sorted letters with particles: the index for names split or joined differently."""
        return "".join(sorted("".join(self.tokens)))

    @property
    def rkey(self) -> str:
        """`key` reversed: the suffix index for one-typo suggestions."""
        return self.key[::-1]


def _same_letters_in_some_order(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the tokens of a and b, each put in some order, spell the same letters."""
    if max(len(a), len(b)) > 6:
        return False
    return bool({"".join(p) for p in permutations(a)} & {"".join(p) for p in permutations(b)})


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
            if _same_letters_in_some_order(
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
        parsed = parse_directory_query(rest) or (None, None)
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


# -- import --------------------------------------------------------------------------------

REQUIRED = ("surname", "first_name", "ballot")
MAX_FIELD = 200
MAX_REJECTED_KEPT = 1000  # rejected rows listed in the report; the rest are only counted


class RollImportError(Exception):
    """The file cannot be imported; the roll in service is unchanged."""


@dataclass
class ImportReport:
    """What an import did."""

    source: str
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","
    seconds: float = 0.0


Progress = Callable[[int, int, int], None]  # (bytes read, total bytes, rows read)


def roll_column(header: str) -> str | None:
    """Which roll field a header names, loosely: "Nom d'usage", "PRÉNOM", "Scrutin"..."""
    h = fold(header).strip()
    if h.startswith("prenom") or h in {"first name", "firstname", "given name", "forename"}:
        return "first_name"
    if h.startswith("nom") or h in {"surname", "last name", "lastname", "family name", "name"}:
        return "surname"
    if any(w in h for w in ("scrutin", "ballot", "instance", "election", "college")):
        return "ballot"
    if h.startswith("categ") or h in {"category", "corps", "population"}:
        return "category"
    if h.startswith("dep") or h in {"dept", "department"}:
        return "departement"
    if h.startswith("etab") or h in {"school", "establishment", "uai", "rne", "affectation"}:
        return "establishment"
    return None


def _decode(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False


@lru_cache(maxsize=1024)
def _category(value: str) -> str | None:
    if not value:
        return None
    if value in _CATEGORIES:
        return value
    parsed = parse_directory_query(value)
    return parsed[0] if parsed else None


@lru_cache(maxsize=1024)
def _departement(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    digits = value.lstrip("0")
    if digits[:2].isdigit() and (len(digits) == 2 or not digits[2:3].isdigit()):
        return digits[:2]
    parsed = parse_directory_query(value)
    return parsed[1] if parsed else None


_CATEGORIES = frozenset(c.value for c in Category)


class _Lines:
    """Decoded lines of a binary file, counting bytes read (UTF-8 per line, else cp1252)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.bytes_read = 0
        self.cp1252 = False

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.bytes_read += len(raw)
            text, utf8 = _decode(raw)
            self.cp1252 |= not utf8
            yield text


async def import_roll(
    store: Store,
    path: str | Path,
    now: datetime,
    progress: Progress | None = None,
    chunk: int = 20_000,
) -> ImportReport:
    """Import a roll CSV as a new generation and put it in service only once complete.

    Streams the file (one chunk of rows in memory), writes chunks in short transactions
    (the bot keeps serving the previous roll meanwhile), then swaps in one transaction. On
    any error or interruption the partial generation is discarded: nothing changes.
    """
    path = Path(path)
    started = time.perf_counter()
    total = path.stat().st_size
    report = ImportReport(source=str(path))
    generation: int | None = None
    try:
        with path.open("rb") as handle:
            first = handle.readline()
            if first.startswith(b"\xef\xbb\xbf"):
                first = first[3:]
            header_text, utf8 = _decode(first)
            counts = {d: header_text.count(d) for d in (";", ",", "\t")}
            report.delimiter = max(counts, key=lambda d: counts[d])
            header = next(csv.reader([header_text], delimiter=report.delimiter), [])
            columns: dict[str, int] = {}
            for i, name in enumerate(header):
                column = roll_column(name)
                if column is not None and column not in columns:
                    columns[column] = i
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise RollImportError(
                    f"missing column(s) {', '.join(missing)} in the header {header!r}"
                )
            lines = _Lines(handle)
            lines.bytes_read = len(first)
            lines.cp1252 = not utf8
            reader = csv.reader(lines, delimiter=report.delimiter)
            generation = await store.roll_begin(str(path), now)
            batch: list[Any] = []
            read = 0
            for row in reader:
                line = reader.line_num + 1  # the header is line 1
                if not any(cell.strip() for cell in row):
                    continue
                read += 1
                if progress is not None and read % 1000 == 0:
                    progress(lines.bytes_read, total, read)
                parsed = _roll_row(row, columns)
                if isinstance(parsed, str):
                    report.rejected_count += 1
                    if len(report.rejected) < MAX_REJECTED_KEPT:
                        report.rejected.append((line, parsed))
                    continue
                batch.append(parsed)
                if len(batch) >= chunk:
                    await store.roll_add(generation, batch)
                    report.imported += len(batch)
                    batch = []
                    if progress is not None:
                        progress(lines.bytes_read, total, read)
            if batch:
                await store.roll_add(generation, batch)
                report.imported += len(batch)
            if progress is not None:
                progress(lines.bytes_read, total, read)
            report.encoding = "cp1252" if lines.cp1252 else "utf-8"
            if report.imported == 0:
                raise RollImportError("no valid row: the roll in service is unchanged")
            await store.roll_activate(generation, report.imported, report.rejected_count, now)
    finally:
        if generation is not None:
            await store.roll_end()
    report.seconds = time.perf_counter() - started
    return report


def _roll_row(row: list[str], columns: dict[str, int]) -> tuple[Any, ...] | str:
    """A row ready for the store, or the reason it is rejected."""

    def cell(name: str) -> str:
        i = columns.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    surname, first_name, ballot = cell("surname"), cell("first_name"), cell("ballot")
    for value, label in ((surname, "surname"), (first_name, "first name"), (ballot, "ballot")):
        if not value:
            return f"missing {label}"
        if len(value) > MAX_FIELD:
            return f"{label} longer than {MAX_FIELD} characters"
    if not any(c.isalpha() for c in surname) or not any(c.isalpha() for c in first_name):
        return "a name without letters"
    key = NameKey.of(f"{surname} {first_name}")
    if len(key.core) < 2:
        return "surname and first name give fewer than two words"
    establishment = cell("establishment")[:MAX_FIELD] or None
    return (
        key.key,
        key.loose,
        key.rkey,
        surname,
        first_name,
        ballot,
        _category(cell("category")),
        _departement(cell("departement")),
        establishment,
    )


# -- operator output (CLI, plain text) -----------------------------------------------------


class ProgressBar:
    """A hand-written progress bar on a text stream, redrawn at most ten times a second."""

    def __init__(self, stream: Any, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.last = 0.0
        self.shown = (-1, -1)
        self.drawn = False

    def __call__(self, done: int, total: int, rows: int) -> None:
        now = time.monotonic()
        if (now - self.last < 0.1 and done < total) or (done, rows) == self.shown:
            return
        self.last, self.shown = now, (done, rows)
        share = min(1.0, done / total) if total else 1.0
        filled = int(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%}  {rows:,} rows")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def format_report(report: ImportReport) -> str:
    """The end-of-import report: rows imported, rows rejected with line and reason."""
    lines = [
        f"roll imported from {report.source} ({report.encoding}, "
        f"separator {report.delimiter!r}) in {report.seconds:.1f} s",
        f"rows imported: {report.imported}",
        f"rows rejected: {report.rejected_count}",
    ]
    lines += [f"  line {line}: {reason}" for line, reason in report.rejected]
    if report.rejected_count > len(report.rejected):
        lines.append(f"  ... and {report.rejected_count - len(report.rejected)} more")
    return "\n".join(lines)


def format_stats(stats: Any) -> str:
    """A summary of the roll in service."""
    gen = stats.generation
    if gen is None:
        return "no roll in service (import one with: votebot roll import FILE)"
    lines = [
        f"roll in service: generation {gen.id}, from {gen.source}, "
        f"imported {paris(gen.completed_at):%Y-%m-%d %H:%M} (Paris time)",
        f"entries: {stats.entries}  people (distinct names): {stats.people}  "
        f"rejected at import: {gen.rejected}",
    ]
    for title, counts in (
        ("by ballot", stats.by_ballot),
        ("by category", stats.by_category),
        ("by departement", stats.by_departement),
    ):
        lines.append(f"{title}:")
        lines += [f"  {value or '(none)'}: {n}" for value, n in counts.items()]
    lines.append(f"look-ups in the last 24 h: {stats.lookups} ({stats.lookups_found} found)")
    if stats.refused:
        who = ", ".join(f"{user} ({n})" for user, n in stats.refused)
        lines.append(f"refused by the limits in the last 24 h (user id, times): {who}")
    return "\n".join(lines)


def format_answer(answer: Answer, roll_ballot: str) -> str:
    """`votebot roll find` output: found or not, for the guide's ballot; no suggestion."""
    if answer.status == "need_first_name":
        return "give a surname and a first name (no partial or surname-only search)"
    if answer.status == "unavailable":
        return "no roll in service"
    if answer.status == "found":
        where = (
            f"on the roll of {roll_ballot}" if on_ballot(answer, roll_ballot) else "on the roll"
        )
        return f"found: {where}"
    return "not found"
