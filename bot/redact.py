"""Detect and remove secrets a voter pastes: NUMEN, passwords, vote codes, secret answers.

The text is NFKC-normalised first (full-width ２４Ｅ… becomes 24E…) and invisible format
characters are dropped, then four rules mark what to remove:

- a NUMEN: 2 digits, a letter, 6 to 8 digits, 3 letters, with or without spaces, dots, dashes;
- codes: groups of capitals and digits ("VK11 9QX2 MZ4T", "VK7P-9QX2-MZ4T", "VK23P9QX2MZ4T"),
  letters and digits interleaved ("creteil07x2022"), or 8+ characters mixing three of lower
  case, upper case, digits and symbols ("Tr0ub4dor&3");
- whatever follows "code (de vote)", "mot de passe", "mdp", "password", "réponse (secrète)",
  "question défi" when it looks like a value: digits, a capital inside a word, a symbol; for
  a password or an answer also a name (Médor), after ":" or "=" any word that is not
  ordinary French, after "est" a long one for a password — never a complaint ("refusé").
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from bot.textfold import fold

# data: the mark left in kept and relayed text where a secret was
PLACEHOLDER = "[secret retiré]"

_SEP = r"[ .\-]?"
_NUMEN = re.compile(
    r"(?<![A-Za-z0-9])\d"
    + _SEP
    + r"\d"
    + _SEP
    + r"[A-Za-z]"
    + _SEP
    + (_SEP.join([r"\d"] * 6))
    + r"(?:"
    + _SEP
    + r"\d){0,2}"
    + _SEP
    + _SEP.join([r"[A-Za-z]"] * 3)
    + r"(?![A-Za-z0-9])"
)
# Groups of capitals and digits joined by single spaces or dashes: VK11 9QX2 MZ4T.
_GROUPS = re.compile(r"(?<![\w])[A-Z0-9]{2,6}(?:[ \-][A-Z0-9]{2,6}){1,5}(?![\w])")
_DIGIT_GROUPS = re.compile(r"\d{2,8}(?:[ \-.]\d{2,8}){0,4}")
_TOKEN = re.compile(r"\S+")
_EDGE = "\"'«»()[]{}<>.,;:!?…“”‘’"
_QUOTES = "\"'«»()[]{}<>,;.…“”‘’"  # stripped from a secret's span; "!" and "?" go with it
_URL = re.compile(r"^(https?://|www\.)|^[\w.-]+\.(fr|com|org|net|eu|gouv\.fr)(/|$)", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_WORDISH = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*$")  # words, names, Seine-Saint-Denis
_SLASHED = re.compile(r"^[^\W_]+(?:/[^\W_]+)+$")  # 6h/semaine, 77/93/94, et/ou
_SOFT_SYMBOLS = set("/-.,:'’()·•")  # inside ordinary words (un·e), not a password symbol

# Words after which what follows is a secret (accents and case are ignored).
_KEYWORDS = re.compile(  # data: keywords
    r"(?<!\w)(?:"
    r"(?P<password>mots?[ \-]+de[ \-]+passe|mdp|passwords?|passwd|pwd|pass)"
    r"|(?P<code>codes?(?:[ \-]+(?:de[ \-]+vote|secret|confidentiel|perso(?:nnel)?|d['’]acc[eè]s))?"
    r"|vote[ \-]+code|voting[ \-]+code)"
    r"|(?P<answer>r[ée]ponses?(?:[ \-]+secr[eè]tes?)?|secret[ \-]+answer|answer"
    r"|questions?[ \-]+d[ée]fi|challenge[ \-]+question|question[ \-]+secr[eè]te)"
    r")(?!\w)",
    re.I,
)
_STRONG = {":", "=", "->", "=>", "：", "is:"}
_MARKERS = {  # data: words saying "is"
    ":", "=", "->", "=>", "est", "c'est", "c’est", "cest", "c", "is", "was", "était", "etait",
    "serait", "sera", "vaut", "donne",
}  # fmt: skip
_FILLER = {  # data: words skipped between a keyword and its value
    "de", "vote", "secret", "secrète", "secrete", "actuel", "actuelle", "perso", "personnel",
    "provisoire", "nouveau", "nouvelle", "ancien", "ancienne", "initial", "(", ")", "-",
    "my", "the", "à", "a", "la", "question", "défi", "defi", "au", "pour",  # data:
}  # fmt: skip
# data: ordinary words met after those keywords ("mon mot de passe est refusé").
_ORDINARY_WORDS = """
    le la les l un une des du de d au aux ce cet cette ces ça ca cela ceci celui celle qui que
    quoi quel quelle quels quelles où ou et mais donc car ni ne n pas plus jamais rien toujours
    encore déjà deja bien mal trop très tres assez peu vraiment aussi même meme tout toute tous
    toutes il elle on je j tu nous vous ils elles me m te t se s y en mon ma mes ton ta tes son
    sa ses notre votre leur leurs moi toi lui sur sous dans par pour avec sans chez vers avant
    après apres depuis pendant entre comme si quand comment pourquoi combien faux fausse
    incorrect incorrecte invalide invalid wrong correct correcte bon bonne mauvais mauvaise
    valide juste vide nul nulle long longue court courte simple compliqué complique difficile
    facile sensible obligatoire nécessaire necessaire requis différent different identique
    introuvable inconnu inconnue perdu perdue oublié oublie oubliée bloqué bloque bloquée
    refusé refuse refusée expiré expire expirée erroné errone erronée incomplet incomplète
    illisible nouveau nouvelle ancien ancienne autre autres même vieux vieille censé cense
    demandé demande envoyé envoye arrivé arrive reçu recu écrit ecrit noté note indiqué indique
    marqué marque affiché affiche sur-le-champ pareil pareille ok okay oui non peut-être
    peutetre sûrement surement normal normale possible impossible disponible obligatoirement
    à a the is not what where my your it this that lost forgotten wrong missing blocked
    expired too still never ever same new old sent received required needed secret secrète
    secrete question questions défi defi réponse reponse vote code codes passe mot mots mdp
    password personnel personnelle confidentiel confidentielle numen notice portail site
    lequel laquelle lesquels lesquelles aucun aucune personne quelque chose chaque plusieurs
    iprof arena ent messagerie académique academique ac-creteil
    compte mail email adresse webmel identifiant login chiffres chiffre lettres lettres
    caractères caracteres majuscule majuscules minuscule minuscules car caractere caractère
    kwa koi pk pq pcq stp svp jsp chai bcp tjrs tt ds ke ki sa grave
"""
_ORDINARY = frozenset(_ORDINARY_WORDS.split())
_PRONOUNS = {"je", "moi", "toi", "il", "elle", "on", "nous", "vous", "ils", "elles", "le", "la"}
_PRONOUNS |= {"les", "lui", "leur", "y", "en", "ce", "ci", "là"}  # data:
_ELIDED = {"j", "l", "d", "m", "t", "s", "n", "c", "qu", "jusqu", "lorsqu", "puisqu"}
_ORDINARY_ENDINGS = (  # data: endings of participles and adjectives
    "é", "ée", "és", "ées", "ant", "ante", "ible", "able", "ment", "eux", "euse", "if", "ive",
    "ir", "er", "ait", "aient", "ais", "oire", "ique", "iques", "tion", "ions", "ez", "ons",
)  # fmt: skip
_ORDINARY_FOLDED = frozenset(fold(w) for w in _ORDINARY)
_FOLDED_ENDINGS = ("ee", "ees")  # refusee, bloquees (accents left out)
_VALUE_SYMBOLS = set("!@#$%^&*+=?~_|\\<>{}[];§£€µ")


def _normalise(text: str) -> str:
    """NFKC, without invisible format characters (zero-width spaces, bidi marks)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _switches(token: str) -> int:
    """How many times the token goes from letters to digits or back."""
    kinds = ["d" if c.isdigit() else "a" for c in token if c.isalnum()]
    return sum(1 for a, b in itertools.pairwise(kinds) if a != b)


def _looks_like_code(token: str) -> bool:
    """Letters and digits interleaved (VK23P9QX2MZ4T, creteil07x2022, 24E170004XYZ)."""
    if len(token) < 8 or not token.isalnum() or not token.isascii():
        return False
    digits = sum(c.isdigit() for c in token)
    return digits >= 2 and len(token) - digits >= 2 and _switches(token) >= 2


def _looks_like_password(token: str, length: int | None = None) -> bool:
    """8+ characters mixing three of lower case, upper case, digits, symbols (`length`: the
    token's length with a final "!" or "?", which is not counted as a symbol)."""
    if (length or len(token)) < 8 or _URL.search(token) or _EMAIL.match(token):
        return False
    if _WORDISH.match(token) or _SLASHED.match(token):
        return False
    classes = (
        any(c.islower() for c in token),
        any(c.isupper() for c in token),
        any(c.isdigit() for c in token),
        any(not c.isalnum() and c not in _SOFT_SYMBOLS for c in token),
    )
    return sum(classes) >= 3


def _looks_like_value(token: str) -> bool:
    """What follows a keyword and cannot be an ordinary word: 48392017, MotDePasse, p@ss4."""
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    if digits and digits == len(token):
        return digits >= 6
    if digits and letters and len(token) >= 4 and not _URL.search(token):
        return True
    if letters >= 4 and any(c.isupper() for c in token[1:]) and not token.isupper():
        return True
    if any(c in _VALUE_SYMBOLS for c in token) and len(token) >= 4 and not _EMAIL.match(token):
        return True
    return _looks_like_code(token) or _looks_like_password(token)


def _is_ordinary(word: str) -> bool:
    lower = word.lower()
    if lower in _ORDINARY or fold(lower) in _ORDINARY_FOLDED or len(lower) <= 2:
        return True
    head, _, tail = lower.replace("’", "'").partition("'")
    if tail and head in _ELIDED:  # j'ai, l'ancien, qu'il, d'accord
        return True
    if lower.rsplit("-", 1)[-1] in _PRONOUNS:  # gardez-la, dites-moi, est-il
        return True
    if any(c.isupper() for c in word):
        return False
    return lower.endswith(_ORDINARY_ENDINGS) or fold(lower).endswith(_FOLDED_ENDINGS)


def _answer_like(token: str, family: str, strong: bool) -> bool:
    """After "est": a capitalised word (Médor) or, for a password, a long word that is not
    ordinary French (motdepassesecret); after ":" or "=": any word that is not ordinary."""
    if not token or not any(c.isalpha() for c in token) or _is_ordinary(token):
        return False
    if token[0].isupper() or strong:
        return True
    # After "est": a lower-case word is too often a complaint ("est faussse", "est refusee").
    return family == "password" and len(token) >= 8


def _strip(token: str) -> str:
    return token.strip(_EDGE)


def _span(tok: re.Match[str]) -> tuple[int, int]:
    """A secret token's span, without the quotes or commas around it."""
    raw = tok.group(0)
    inner = raw.strip(_QUOTES) or raw
    start = tok.start() + raw.index(inner)
    return start, start + len(inner)


def _keyword_spans(text: str) -> list[tuple[int, int]]:
    """Spans of values following a keyword ("mot de passe : X", "code de vote 4839 2017")."""
    spans: list[tuple[int, int]] = []
    for match in _KEYWORDS.finditer(text):
        family = match.lastgroup or "code"
        tokens = list(itertools.islice(_TOKEN.finditer(text, match.end()), 6))
        marked = strong = False
        for index, tok in enumerate(tokens):
            raw = tok.group(0)
            word = _strip(raw)
            lower = word.lower()
            if raw in _MARKERS or lower in _MARKERS:
                marked = True
                strong = strong or raw in _STRONG
                continue
            if lower in _FILLER or not word:
                continue
            digits = _DIGIT_GROUPS.match(text, tok.start() + raw.index(word[0]))
            if digits and len(re.sub(r"\D", "", digits.group(0))) >= 6:
                spans.append((digits.start(), digits.end()))
                break
            # A vote code is letters and digits: after "code", only a value-like word counts.
            named = word[:1].isupper() and len(word) >= 5
            if _looks_like_value(word) or (
                family != "code" and (marked or named) and _answer_like(word, family, strong)
            ):
                start, end = _span(tok)
                for more in tokens[index + 1 : index + 4]:  # VK11 9QX2 MZ4T, Le Chat Noir
                    nxt = _strip(more.group(0))
                    if not nxt or not (_looks_like_value(nxt) or nxt[:1].isupper()):
                        break
                    if _is_ordinary(nxt) and not _looks_like_value(nxt):
                        break
                    end = _span(more)[1]
                spans.append((start, end))
            break
    return spans


def _token_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for tok in _TOKEN.finditer(text):
        word = _strip(tok.group(0))
        length = len(tok.group(0).strip(_QUOTES))
        if word and (_looks_like_code(word) or _looks_like_password(word, length)):
            spans.append(_span(tok))
    return spans


def _group_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _GROUPS.finditer(text):
        groups = re.split(r"[ \-]", match.group(0))
        mixed = sum(1 for g in groups if re.search(r"\d", g) and re.search(r"[A-Z]", g))
        if mixed >= 2 and sum(map(len, groups)) >= 8:
            spans.append(match.span())
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redact(text: str) -> tuple[str, bool]:
    """The text with every secret replaced by a placeholder, and whether any was found.

    Text without a secret comes back unchanged; text with one comes back normalised (NFKC).
    """
    norm = _normalise(text)
    spans = [m.span() for m in _NUMEN.finditer(norm)]
    spans += _group_spans(norm) + _token_spans(norm) + _keyword_spans(norm)
    if not spans:
        return text, False
    out, last = [], 0
    for start, end in _merge(spans):
        out.append(norm[last:start])
        out.append(PLACEHOLDER)
        last = end
    out.append(norm[last:])
    return "".join(out), True


def has_secret(text: str) -> bool:
    """Whether the text holds something that looks like a NUMEN, password or vote code."""
    return redact(text)[1]


def plain_name(name: str, limit: int = 64) -> str:
    """A name fit to show staff: no control, bidi or other invisible characters (which could
    reorder a topic title or a card), whitespace collapsed, at most `limit` characters."""
    kept = "".join(
        " " if c.isspace() else c
        for c in name
        if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs")
    )
    return " ".join(kept.split())[:limit]
