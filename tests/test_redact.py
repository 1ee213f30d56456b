"""Pasted secrets are recognised in every form voters use; ordinary French text is left alone."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.redact import PLACEHOLDER, has_secret, redact

ROOT = Path(__file__).parent.parent
# Every labelled sentence the project holds: intent sets, sample messages, the intent corpus.
CORPORA = sorted((ROOT / "tests" / "data").glob("*.tsv")) + sorted(
    p for p in [ROOT / "bot" / "data" / "intent_corpus.tsv"] if p.exists()
)

# (message, the secret part that must disappear)
SECRETS = [
    # the forms of the security pass (issue 15)
    ("mon code VK23P9QX2MZ4T est refusé", "VK23P9QX2MZ4T"),
    ("code de vote : VK11 9QX2 MZ4T", "9QX2"),
    ("code de vote : VK11 9QX2 MZ4T", "MZ4T"),
    ("code de vote : VK11 9QX2 MZ4T", "VK11"),
    ("mon mot de passe est creteil07x2022", "creteil07x2022"),
    ("mdp MotDePasseHuitTresLong", "MotDePasseHuitTresLong"),
    ("２４Ｅ１７０００４ＸＹＺ", "24E170004XYZ"),
    ("mon numen ２４Ｅ１７０００１６ＸＹＺ merci", "24E1700016XYZ"),
    ("/start 24E1700016XYZ", "24E1700016XYZ"),
    ("/aide Creteil17x2022!", "Creteil17x2022"),
    ("/aide Creteil17x2022!", "!"),
    # the forms of the intent issue (issue 10)
    ("mon mot de passe est motdepassesecret2022", "motdepassesecret2022"),
    ("code de vote 48392017", "48392017"),
    ("ma reponse secrete est Médor", "Médor"),
    ("ma réponse à la question défi : médor", "médor"),
    # what was caught before
    ("mon numen c'est 24E1701234ABC", "1701234"),
    ("24 E 17 01234 ABC", "01234"),
    ("24e1701234abc merci", "1701234"),
    ("voici mon mot de passe : Tr0ub4dor&3xyz", "Tr0ub4dor"),
    ("code de vote X7k#pL9q!", "X7k#"),
    ("mdp: Elections2022!", "Elections2022"),
    ("VK7P-9QX2-MZ4T", "9QX2"),
    # more shapes
    ("code de vote 4839 2017", "4839"),
    ("code de vote 4839 2017", "2017"),
    ("mot de passe: soleil", "soleil"),
    ("my password is hunter2hunter", "hunter2hunter"),
    ("mon numen 24E\u200b1700016XYZ", "1700016"),
    ("mon code c'est «VK23P9QX2MZ4T»", "VK23P9QX2MZ4T"),
]

ORDINARY = [
    "Bonjour, je n'ai pas reçu ma notice",
    "Anne-Sophie Lefèvre-Dupont de Seine-Saint-Denis",
    "mon adresse prenom.nom2@ac-creteil.fr ne marche pas",
    "https://webmel.ac-creteil.fr/iwc_static/layout/login.html?lang=fr&svcs=mail",
    "le captcha 4821 est refusé",
    "aujourd'hui, c'est le 1er décembre 2022 à 17h00",
    "06 12 34 56 78",
    "j'ai paumé mon code de vote",
    "vacataire 6h/semaine, électeur ou pas ?",
    "mes élèves font n'importe quoi en 4eB, des conseils ?",
    "je me souviens plus de la reponse a la question secrete",
    "mon mot de passe est refusé",
    "mot de passe oublié",
    "mdp : j'ai oublié",
    "mon code de vote ne fonctionne pas",
    "la réponse à la question défi c'est quoi déjà",
    "ma réponse secrète est fausse apparemment",
    "j'ai pas eu de réponse de l'académie",
    "code postal 93000",
    "le code est à 8 chiffres ?",
    "mon mot de passe doit faire 12 caractères ?",
    "question défi : laquelle choisir ?",
    "j'ai vu ça le 12/03/2022 de 17h00-18h00",
    "RDV au CSA 2022 AESH 93",
    "établissement 0931234X",
    "j'enseigne en CM1/CM2",
    "where can I find my NUMEN number",
    "my password is not working",
    "I lost my vote code",
    "Sans la réponse exacte, impossible de récupérer un code : gardez-la précieusement.",
    "Remplaçant·e : votre notice est remise dans votre établissement de rattachement",
    "les Électeur·rice·s du 93",
    "le portail dit que ma reponse secrete est faussse",
    "ma reponse a la question secrete est refusee",
    "on me demande de choisir une question et une réponse, cest pour kwa",
    "je sais plus la réponse de ma question secrète, c'est grave ?",
]


@pytest.mark.parametrize(("text", "part"), SECRETS)
def test_secrets_are_removed(text: str, part: str) -> None:
    cleaned, found = redact(text)
    assert found and PLACEHOLDER in cleaned, cleaned
    assert part not in cleaned, cleaned


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == (text, False)


def test_the_corpora_are_read() -> None:
    names = {p.name for p in CORPORA}
    assert "utterances_sample.tsv" in names and len(names) >= 2


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.name)
def test_no_corpus_line_is_taken_for_a_secret(path: Path) -> None:
    # Every cell of every line: files put the text first or second ("intent<TAB>text").
    with path.open(encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        cells = [cell for row in rows if row and not row[0].startswith("#") for cell in row]
    assert len(cells) > 20
    flagged = [cell for cell in cells if has_secret(cell)]
    assert flagged == []


# -- property: secrets of every shape inside random French sentences -------------------------

_WORDS = (
    "bonjour merci je ne comprends pas pourquoi le site refuse aidez-moi svp ça marche toujours "
    "depuis hier soir et alors voilà mon ma la notice portail collègue vote académie Créteil "
    "demain lundi quand comment est-ce que ? ! , ... c'est urgent 2022 93 AESH"
)
WORDS = _WORDS.split()
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
KEYWORDS = [
    "mon mot de passe est",
    "mot de passe :",
    "mdp",
    "mdp =",
    "password:",
    "code de vote",
    "mon code de vote c'est",
    "ma réponse secrète est",
    "réponse à la question défi :",
]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def numens(draw: st.DrawFn) -> str:
    digits = st.text(DIGITS, min_size=1, max_size=1)
    letter = st.text(UPPER, min_size=1, max_size=1)
    parts = [draw(digits) + draw(digits), draw(letter), "".join(draw(digits) for _ in range(7))]
    parts.append("".join(draw(letter) for _ in range(3)))
    numen = draw(st.sampled_from(["", " ", "-"])).join(parts)
    numen = numen.lower() if draw(st.booleans()) else numen
    return _fullwidth(numen) if draw(st.booleans()) else numen


@st.composite
def codes(draw: st.DrawFn) -> str:
    """Capitals and digits interleaved, maybe in groups: VK23P9QX2MZ4T, VK11 9QX2 MZ4T."""
    group = st.text(UPPER + DIGITS, min_size=4, max_size=4).filter(
        lambda g: any(c.isdigit() for c in g) and any(c.isalpha() for c in g)
    )
    groups = [draw(group) for _ in range(draw(st.integers(3, 4)))]
    return draw(st.sampled_from(["", " ", "-"])).join(groups)


@st.composite
def passwords(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(["Creteil", "Soleil", "Vacances", "Ecole", "Rentree"]))
    return word + draw(st.text(DIGITS, min_size=2, max_size=4)) + draw(st.sampled_from("!#$%*"))


@st.composite
def keyword_values(draw: st.DrawFn) -> tuple[str, str]:
    keyword = draw(st.sampled_from(KEYWORDS))
    values = [
        st.text(DIGITS, min_size=8, max_size=10),
        st.from_regex(r"[a-z]{4,8}[0-9]{2,4}", fullmatch=True),
    ]
    if "code" not in keyword:  # a password or an answer may be a name: Médor
        values.append(st.from_regex(r"[A-Z][bcdfghjklmnpqrstvwxz]{5,9}", fullmatch=True))
    value = draw(st.one_of(values))
    return keyword, value


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(st.sampled_from(WORDS), max_size=8),
    after=st.lists(st.sampled_from(WORDS), max_size=8),
    shape=st.one_of(
        numens().map(lambda s: ("", s)),
        codes().map(lambda s: ("", s)),
        passwords().map(lambda s: ("", s)),
        keyword_values(),
    ),
)
def test_secrets_in_random_sentences_are_removed(
    before: list[str], after: list[str], shape: tuple[str, str]
) -> None:
    keyword, secret = shape
    text = " ".join([*before, keyword, secret, *after]).strip()
    cleaned, found = redact(text)
    assert found, text
    plain = unicodedata.normalize("NFKC", secret)
    for piece in plain.replace("-", " ").split():
        if len(piece) >= 3:
            assert piece not in cleaned, (text, cleaned)
