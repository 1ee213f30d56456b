"""Pasted secrets are recognised; ordinary French text is left alone."""

import pytest

from bot.redact import PLACEHOLDER, redact


@pytest.mark.parametrize(
    "text",
    [
        "mon numen c'est 24E1701234ABC",
        "24 E 17 01234 ABC",
        "24e1701234abc merci",
        "voici mon mot de passe : Tr0ub4dor&3xyz",
        "code de vote X7k#pL9q!",
        "mdp: Elections2022!",
    ],
)
def test_secrets_are_removed(text: str) -> None:
    cleaned, found = redact(text)
    assert found and PLACEHOLDER in cleaned
    assert not any(part in cleaned for part in ("1701234", "Tr0ub4dor", "X7k#", "Elections2022"))


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, je n'ai pas reçu ma notice",
        "Anne-Sophie Lefèvre-Dupont de Seine-Saint-Denis",
        "mon adresse prenom.nom2@ac-creteil.fr ne marche pas",
        "https://webmel.ac-creteil.fr/iwc_static/layout/login.html?lang=fr&svcs=mail",
        "le captcha 4821 est refusé",
        "aujourd'hui, c'est le 1er décembre 2022 à 17h00",
        "06 12 34 56 78",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == (text, False)
