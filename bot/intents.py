"""Free text → intent and confidence: French first, tolerant of typos, SMS spelling and English.

The router normalises the text (case, accents, ligatures, SMS abbreviations), corrects
misspelt words against its own vocabulary (rapidfuzz), then scores each intent with rules:
a rule is a set of concepts (regular expressions on the normalised text) that must all be
present, with a weight. An intent scores the weight of its best matching rule.
The keywords below are matching data, not sentences shown to voters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

INTENTS = (
    "get_webmel_id",
    "forgot_webmel_password",
    "portal_access",
    "captcha_problem",
    "validation_email_missing",
    "password_rules",
    "forgot_election_password",
    "secret_question",
    "vote_code_where",
    "lost_vote_code",
    "vote_dates",
    "how_to_vote",
    "check_roll",
    "colleague_missing_contact",
    "who_can_vote",
    "which_ballots",
    "numen_where",
    "greeting",
    "thanks",
    "human_help",
    "out_of_scope",
)

# SMS spelling and contractions, token → replacement (data: normalised, accent-free).
SMS = {
    "mdp": "mot de passe",
    "mdps": "mots de passe",
    "pwd": "password",
    "stp": "s il te plait",
    "svp": "s il vous plait",
    "jsp": "je sais pas",
    "jsais": "je sais",
    "chai": "je sais",
    "koi": "quoi",
    "kwa": "quoi",
    "c": "c est",
    "g": "j ai",
    "jai": "j ai",
    "jen": "j en",
    "jarrive": "j arrive",
    "jpeux": "je peux",
    "chui": "je suis",
    "jsuis": "je suis",
    "ya": "il y a",
    "pb": "probleme",
    "pbm": "probleme",
    "prob": "probleme",
    "msg": "message",
    "qd": "quand",
    "kan": "quand",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "bcp": "beaucoup",
    "mrc": "merci",
    "mci": "merci",
    "thx": "thanks",
    "ty": "thanks",
    "slt": "salut",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "cc": "coucou",
    "tel": "telephone",
    "portable": "telephone",
    "smartphone": "telephone",
    "ds": "dans",
    "tt": "tout",
    "tjs": "toujours",
    "tjrs": "toujours",
    "dc": "donc",
    "ke": "que",
    "ki": "qui",
    "vs": "vous",
    "pr": "pour",
    "pa": "pas",
    "mail": "mail",
    "mel": "mail",
    "email": "mail",
    "e": "",
    "courriel": "mail",
    "rien": "rien",
    "captha": "captcha",
    "capcha": "captcha",
    "captchat": "captcha",
    "numem": "numen",
    "elections": "election",
    "electeurs": "electeur",
    "votes": "vote",
    "codes": "code",
    "notices": "notice",
    "listes": "liste",
    "collegues": "collegue",
}

_WORD = r"(?<![a-z0-9]){}(?![a-z0-9])"


def _c(*alternatives: str) -> re.Pattern[str]:
    """A concept: any of the alternatives as whole words (alternatives may be regexes)."""
    return re.compile("|".join(_WORD.format(a) for a in alternatives))


CONCEPTS: dict[str, re.Pattern[str]] = {
    "PW": _c(r"mots? de passe", r"password", r"passwd", r"mot de pass", r"code d acces"),
    "FORGOT": _c(
        r"oubli\w*",
        r"perdu\w*",
        r"perd",
        r"egare\w*",
        r"sais plus",
        r"souviens plus",
        r"rappelle plus",
        r"retrouve plus",
        r"plus le",
        r"marche (pas|plus)",
        r"fonctionne (pas|plus)",
        r"bloque\w*",
        r"verrouill\w*",
        r"refuse\w*",
        r"incorrect\w*",
        r"invalide",
        r"reinitialis\w*",
        r"recuper\w*",
        r"retrouver",
        r"lost",
        r"forgot\w*",
        r"forgotten",
        r"reset",
        r"refaire",
        r"redemander",
        r"nouveau",
        r"nouvelle",
        r"introuvable",
        r"jete\w*",
        r"impossible",
        r"plus acces",
        r"ne marche plus",
        r"n arrive plus",
    ),
    "LOST": _c(
        r"oubli\w*",
        r"perdu\w*",
        r"perd",
        r"egare\w*",
        r"sais plus",
        r"retrouve plus",
        r"lost",
        r"forgot\w*",
        r"redemander",
        r"nouveau",
        r"introuvable",
        r"jete\w*",
        r"plus (mon|ma|le|la)",
        r"reassort\w*",
        r"new code",
        r"a new",
    ),
    "REASSORT": _c(r"reassort\w*"),
    "WEBMEL": _c(
        r"messagerie\w*",
        r"webmel",
        r"webmail",
        r"boite (mail|academique|pro\w*|aux lettres)",
        r"boite",
        r"mail (pro\w*|academique)",
        r"adresse (mail )?(pro\w*|academique)",
        r"ac creteil",
        r"ac versailles",
        r"ac \w+",
        r"work mail",
        r"webmail password",
        r"adresse mail",
        r"mon adresse",
    ),
    "MAILBOX": _c(r"messagerie\w*", r"webmel", r"webmail", r"boite", r"mail pro\w*"),
    "IDENT": _c(
        r"identifiant\w*",
        r"login",
        r"adresse",
        r"adresse mail",
        r"adresse pro\w*",
        r"mail",
        r"mail address",
        r"codes? pour la messagerie",
        r"nom d utilisateur",
    ),
    "FIND": _c(
        r"trouve\w*",
        r"connai\w*",
        r"obtenir",
        r"obtient",
        r"avoir",
        r"quel\w*",
        r"ou",
        r"comment",
        r"c est quoi",
        r"quoi",
        r"sais pas",
        r"what",
        r"jamais",
        r"pas d",
        r"pas de",
        r"pas encore",
        r"premiere connexion",
        r"activ\w*",
        r"arrive\w*",
        r"nouvelle",
        r"ancienne",
    ),
    "ELECTION": _c(
        r"election\w*",
        r"portail",
        r"espace electeur",
        r"electeur\w*",
        r"voter",
        r"vote",
        r"pour voter",
        r"du portail",
        r"elections pro",
    ),
    "PORTAL": _c(
        r"portail\w*",
        r"site",
        r"lien",
        r"espace electeur",
        r"compte electeur",
        r"creer mon compte",
        r"mon compte",
        r"acceder",
        r"acces",
        r"inscrire",
        r"s inscrire",
        r"portal",
        r"website",
        r"link",
        r"url",
        r"adresse du site",
        r"adresse du portail",
        r"bouton",
        r"access",
    ),
    "CAPTCHA": _c(r"captcha", r"code a 4 chiffres", r"4 chiffres"),
    "CAPTCHA_WEAK": _c(r"chiffres", r"image", r"securite", r"malvoyant", r"audio"),
    "ROBOT": _c(r"robot", r"un bot", r"le bot", r"ia", r"chatbot", r"une vraie personne ici"),
    "VALIDATION": _c(
        r"validation",
        r"valider",
        r"confirmation",
        r"activation",
        r"activer",
        r"lien",
        r"mail du portail",
        r"mail de",
        r"le mail",
        r"un mail",
        r"mail",
        r"confirm\w*",
        r"validat\w*",
    ),
    "NOT_RECEIVED": _c(
        r"pas recu\w*",
        r"jamais recu\w*",
        r"rien recu",
        r"recu",
        r"arrive pas",
        r"n arrive pas",
        r"pas arrive\w*",
        r"jamais arrive\w*",
        r"toujours pas",
        r"attends?",
        r"expire\w*",
        r"rien dans",
        r"not receive\w*",
        r"didn t receive",
        r"no email",
        r"spam",
        r"indesirables?",
        r"gmail",
        r"redirection",
        r"appli",
        r"n est jamais",
        r"rien",
    ),
    "RULES": _c(
        r"regles?",
        r"caracteres?",
        r"caractere special",
        r"speciaux",
        r"special",
        r"majuscules?",
        r"minuscules?",
        r"chiffres?",
        r"longueur",
        r"12",
        r"combien",
        r"trop court",
        r"rules?",
        r"requirements?",
        r"accepte",
        r"pas accepte",
        r"minimum",
        r"format",
        r"il faut",
        r"doit",
    ),
    "SECRET": _c(
        r"question (secrete|defi)",
        r"questions? secretes?",
        r"question defi",
        r"defi",
        r"secrete?",
        r"secret question",
        r"reponse secrete",
    ),
    "NOTICE": _c(
        r"notice\w*",
        r"code (de )?vote",
        r"code electeur",
        r"code pour voter",
        r"voting code",
        r"vote code",
        r"codes?",
        r"bulletin",
    ),
    "WHERE": _c(
        r"ou",
        r"qui",
        r"quand",
        r"comment",
        r"recupere\w*",
        r"recevoir",
        r"recu\w*",
        r"remet\w*",
        r"donne\w*",
        r"distribu\w*",
        r"where",
        r"get",
        r"secretariat",
        r"signer",
        r"pas recu",
        r"sur quoi",
        r"tzr",
        r"remplacant\w*",
        r"aesh",
        r"pial",
        r"normal",
    ),
    "DATES": _c(
        r"quand",
        r"date\w*",
        r"jusqu a quand",
        r"jusqu au?",
        r"quel jour",
        r"quelle heure",
        r"heure",
        r"ferme\w*",
        r"cloture\w*",
        r"clos",
        r"commence\w*",
        r"ouvert\w*",
        r"ouverture",
        r"debut",
        r"fin",
        r"when",
        r"open",
        r"close",
        r"calendrier",
        r"a partir de",
        r"week end",
        r"tous les jours",
        r"\d+ decembre",
        r"decembre",
    ),
    "VOTE": _c(
        r"vote\w*",
        r"voter",
        r"scrutin\w*",
        r"elections?",
        r"election\w*",
        r"elections pro",
        r"vote en ligne",
        r"bulletin",
    ),
    "HOW": _c(
        r"comment",
        r"how",
        r"etapes?",
        r"faire",
        r"se passe",
        r"telephone",
        r"accuse\w*",
        r"reception",
        r"receipt",
        r"recorded",
        r"changer mon vote",
        r"modifier",
        r"apres",
        r"chaque",
        r"separement",
        r"je vote",
        r"telecharg\w*",
        r"en ligne",
        r"on vote",
        r"valide",
        r"definitif",
    ),
    "ROLL": _c(
        r"liste\w*",
        r"liste electorale",
        r"inscrit\w*",
        r"roll",
        r"electoral",
        r"figure\w*",
        r"apparai\w*",
        r"mon nom",
        r"on the",
        r"certifie\w*",
        r"mauvaise cap",
    ),
    "MISSING": _c(
        r"manque\w*",
        r"manquant\w*",
        r"n est pas",
        r"pas sur",
        r"aucune",
        r"absent\w*",
        r"oubli\w*",
        r"missing",
        r"pas inscrit\w*",
        r"n y est pas",
        r"n y figure",
    ),
    "COLLEAGUE": _c(
        r"collegue\w*",
        r"colleague",
        r"enseignant\w*",
        r"agent",
        r"prof\w*",
        r"aesh",
        r"aed",
        r"atss",
        r"personnel",
        r"une collegue",
        r"un collegue",
        r"directrice",
        r"directeur",
        r"chef\w*",
    ),
    "CONTACT": _c(
        r"adresse\w*",
        r"ecrire",
        r"contact\w*",
        r"signal\w*",
        r"mail",
        r"a qui",
        r"on ecrit",
        r"qui contacter",
        r"who do i contact",
        r"report",
    ),
    "CATEGORY": _c(
        r"aesh",
        r"aed",
        r"atss",
        r"tss",
        r"premier degre",
        r"1er degre",
        r"second degre",
        r"2nd degre",
        r"prof des ecoles",
        r"professeurs? des ecoles",
        r"pe",
        r"cpe",
        r"psy",
        r"psychologues?",
        r"assistants? d education",
    ),
    "DEPT": _c(r"77", r"93", r"94", r"seine et marne", r"seine saint denis", r"val de marne"),
    "WHO": _c(
        r"qui peut",
        r"qui vote",
        r"qui a le droit",
        r"droit de vote",
        r"droit de voter",
        r"le droit",
        r"est ce que je vote",
        r"votent",
        r"peuvent voter",
        r"can .* vote",
        r"ai je le droit",
        r"have the right",
        r"je vote si",
    ),
    "STATUS": _c(
        r"contractuel\w*",
        r"stagiaire\w*",
        r"cdd",
        r"cdi",
        r"titulaire\w*",
        r"vacataire\w*",
        r"aesh",
        r"aed",
        r"contract staff",
        r"arret maladie",
        r"conge\w*",
        r"temps partiel",
        r"disponibilite",
        r"detache\w*",
    ),
    "RECEIPT": _c(r"accuse\w* de reception", r"receipt", r"telecharg\w*", r"recorded", r"preuve"),
    "SIGNAL": _c(r"signal\w*", r"report\w*"),
    "WRONG_LIST": _c(r"mis dans", r"mauvaise (cap|liste|ccp)", r"certifie\w*", r"mal inscrit\w*"),
    "BALLOTS": _c(
        r"csa",
        r"cap",
        r"capa",
        r"ccp",
        r"scrutins",
        r"instances?",
        r"plusieurs votes?",
        r"plusieurs bulletins",
        r"plusieurs fois",
        r"sigles",
        r"ballots?",
        r"pour quoi je vote",
        r"pourquoi plusieurs",
        r"combien de scrutins",
    ),
    "NUMEN": _c(r"numen"),
    "GREETING": _c(
        r"bonjour",
        r"salut",
        r"bonsoir",
        r"hello",
        r"coucou",
        r"hey",
        r"hi",
        r"yo",
        r"vous etes un robot",
        r"t es un robot",
        r"tu es un robot",
        r"poser une question",
        r"le bot",
    ),
    "THANKS": _c(
        r"merci\w*",
        r"thanks?",
        r"thank you",
        r"top",
        r"super",
        r"genial",
        r"parfait",
        r"cool",
        r"nickel",
    ),
    "HUMAN": _c(
        r"parler a",
        r"humain",
        r"vraie personne",
        r"personne reelle",
        r"conseill\w*",
        r"quelqu un",
        r"appeler",
        r"telephoner",
        r"numero de telephone",
        r"hotline",
        r"personne ne",
        r"aidez moi",
        r"besoin d aide",
        r"talk to",
        r"real person",
        r"a human",
        r"joindre",
        r"peut m aider",
        r"rien ne marche",
        r"appeler qui",
        r"personne pour",
        r"un responsable",
        r"quelqu un de reel",
    ),
    "HELP": _c(r"help", r"aide moi", r"a l aide", r"sos"),
    "OOS": _c(
        r"salaire",
        r"paie",
        r"fiche de paie",
        r"bulletin de salaire",
        r"ensap",
        r"mutation",
        r"changer d etablissement",
        r"inspection",
        r"inspecteur",
        r"conge\w*",
        r"retraite",
        r"meteo",
        r"temps fait",
        r"weather",
        r"cantine",
        r"vacances",
        r"emploi du temps",
        r"greve",
        r"promotion",
        r"avancement",
        r"formation",
    ),
    "ENGLISH_HOW": _c(r"how do i", r"how to", r"how can i"),
}

# intent → rules: (concepts that must all match, weight).
RULES: dict[str, tuple[tuple[frozenset[str], float], ...]] = {}


def _rules(**table: list[tuple[str, float]]) -> None:
    for intent, rules in table.items():
        RULES[intent] = tuple((frozenset(spec.split()), weight) for spec, weight in rules)


_rules(
    get_webmel_id=[
        ("WEBMEL IDENT FIND", 2.6),
        ("WEBMEL FIND", 2.0),
        ("IDENT MAILBOX", 2.2),
        ("MAILBOX IDENT FIND", 2.9),
        ("WEBMEL IDENT", 2.0),
        ("WEBMEL", 1.2),
    ],
    forgot_webmel_password=[
        ("PW MAILBOX FORGOT", 3.4),
        ("PW MAILBOX", 2.7),
        ("MAILBOX FORGOT", 3.0),
        ("PW WEBMEL FORGOT", 3.2),
    ],
    portal_access=[
        ("PORTAL ELECTION", 2.6),
        ("PORTAL", 1.6),
        ("PORTAL FIND", 1.9),
        ("PORTAL ELECTION FIND", 2.8),
    ],
    captcha_problem=[("CAPTCHA", 3.4), ("CAPTCHA_WEAK", 2.0), ("CAPTCHA_WEAK FORGOT", 2.4)],
    validation_email_missing=[
        ("VALIDATION NOT_RECEIVED", 2.9),
        ("VALIDATION PORTAL NOT_RECEIVED", 3.1),
        ("VALIDATION", 1.2),
    ],
    password_rules=[
        ("PW RULES", 3.0),
        ("PW ELECTION RULES", 3.1),
        ("PW", 1.0),
    ],
    forgot_election_password=[
        ("PW FORGOT", 2.8),
        ("PW ELECTION FORGOT", 3.2),
        ("PW ELECTION", 1.8),
        ("PW REASSORT", 3.4),
    ],
    secret_question=[("SECRET", 3.0)],
    vote_code_where=[
        ("NOTICE WHERE", 2.9),
        ("NOTICE", 1.6),
        ("NOTICE ELECTION", 1.8),
    ],
    lost_vote_code=[
        ("NOTICE LOST", 3.0),
        ("NOTICE LOST ELECTION", 3.2),
        ("NOTICE REASSORT", 3.4),
    ],
    vote_dates=[
        ("DATES VOTE", 2.9),
        ("DATES", 1.4),
    ],
    how_to_vote=[
        ("HOW VOTE", 2.5),
        ("ENGLISH_HOW VOTE", 2.5),
        ("RECEIPT", 2.8),
        ("VOTE", 1.0),
    ],
    check_roll=[
        ("ROLL", 2.4),
        ("ROLL VOTE", 2.5),
        ("WRONG_LIST", 3.2),
    ],
    colleague_missing_contact=[
        ("COLLEAGUE MISSING", 3.0),
        ("COLLEAGUE MISSING ROLL", 3.3),
        ("ROLL MISSING CONTACT", 3.2),
        ("CONTACT MISSING", 2.8),
        ("CATEGORY DEPT SHORT", 3.0),
        ("CATEGORY CONTACT", 3.0),
        ("CATEGORY SHORT", 2.2),
        ("CONTACT COLLEAGUE ROLL", 3.0),
        ("SIGNAL", 2.6),
        ("SIGNAL COLLEAGUE", 3.1),
    ],
    who_can_vote=[
        ("WHO", 2.7),
        ("WHO VOTE", 2.9),
        ("STATUS VOTE", 2.8),
    ],
    which_ballots=[("BALLOTS", 2.8)],
    numen_where=[("NUMEN", 3.1)],
    greeting=[("GREETING", 1.8), ("ROBOT", 2.6)],
    thanks=[("THANKS", 1.8)],
    human_help=[("HUMAN", 3.2), ("HELP", 2.0)],
    out_of_scope=[("OOS", 3.0)],
)


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'"})  # data: ligatures


def normalise(text: str) -> str:
    """Lower case, no accents or ligatures, SMS spelling expanded, punctuation as spaces."""
    text = text.lower().translate(_LIGATURES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    tokens = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(t for t in (SMS.get(tok, tok) for tok in tokens) if t)


@cache
def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set()
    for pattern in CONCEPTS.values():
        words.update(re.findall(r"[a-z]{5,}", pattern.pattern))
    return tuple(sorted(words))


def _correct(text: str) -> str:
    """Replace misspelt words (5+ letters) by the closest word of the router's vocabulary."""
    vocab = _vocabulary()
    known = set(vocab)
    out = []
    for token in text.split():
        if len(token) >= 5 and token.isalpha() and token not in known:
            match = process.extractOne(token, vocab, scorer=fuzz.ratio, score_cutoff=84)
            if match is not None:
                token = match[0]
        out.append(token)
    return " ".join(out)


def scores(text: str) -> dict[str, float]:
    """Every intent with a score above zero."""
    norm = _correct(normalise(text))
    present = {name for name, pattern in CONCEPTS.items() if pattern.search(norm)}
    if len(norm.split()) <= SHORT_WORDS:
        present.add("SHORT")
    result: dict[str, float] = {}
    for intent, rules in RULES.items():
        best = max((w for needed, w in rules if needed <= present), default=0.0)
        if best:
            result[intent] = best
    return result


@dataclass(frozen=True)
class Guess:
    """The router's answer: best intent, its confidence (0-1), and a close second if any."""

    intent: str
    confidence: float
    runner_up: str | None = None


SHORT_WORDS = 6  # "aesh 93", "contact AED": short messages name a category for the directory
CONFIDENT = 0.55  # at or above: jump straight to the step
CLOSE = 0.35  # a second intent within this much of the first: ask "did you mean…?"


def classify(text: str) -> Guess:
    """The most likely intent; `out_of_scope` with confidence 0 when nothing matches."""
    ranked = sorted(scores(text).items(), key=lambda kv: (-kv[1], INTENTS.index(kv[0])))
    if not ranked:
        return Guess("out_of_scope", 0.0)
    top_intent, top = ranked[0]
    second_intent, second = ranked[1] if len(ranked) > 1 else (None, 0.0)
    confidence = round(min(1.0, top / 3.0) * (1.0 - 0.5 * second / top), 2)
    close = second_intent if second_intent and top - second <= CLOSE else None
    return Guess(top_intent, confidence, close)
