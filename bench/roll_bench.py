"""Roll benchmark: import a realistic 200,000-row roll, next to a bare csv + sqlite3 import of
the same file, then time 10,000 look-ups.

    .venv/bin/python -m bench.roll_bench [--rows 200000] [--lookups 10000] [--repeat 3]

The roll is generated with French names (accents, hyphens, particles, apostrophes,
ligatures), written as a semicolon CSV with CRLF line ends. In the same run, alternately and
each into a fresh SQLite file: `bot.roll.import_roll` (the code behind `votebot roll
import`: header matching, rejects, name keys, categories and départements, two indexed name
keys, a new generation swapped in) and the bare baseline (`csv.reader` rows `executemany`d
into a six-column table without index, in one transaction, WAL). The best of `--repeat` runs
of each is compared; target: the import within 3 × the baseline.

Then `bot.roll.find` (the matching of the chat and of `votebot roll find`): 60 % names on
the roll typed differently (case, accents, order), 20 % with one typo, 20 % absent; and the
chat's text handler (rate limit + look-up + audit write). Target: look-up p99 ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.flows import Context
from bot.roll import RollLookup, find, import_roll
from bot.settings import PARIS
from store import open_store


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = _words("""Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent
Simon Michel
Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine
Rousseau Vincent Müller Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier
François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu
Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun
Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martínez Gérard Roche
Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas
Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq Guillaume
Lecomte López Jean Dupuy Guillot Hubert Berger Carpentier Sánchez Dupuis Moulin Louis Deschamps
Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty Aubry Guyot
Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez
Le_Gall Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Le_Roux Cousin Germain Breton
Besson Langlois Rémy Le_Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber
Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain
Tessier Chevallier Collin Chauvin Da_Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud
Antoine Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier
Laporte N'Diaye N'Guessan Diallo Traoré Koné Camara Diop Ndiaye Sy Ba Cissé Keïta Touré
Haddad Benali Bensaïd Belkacem Mansouri Amrani Benmoussa Cherif Hamidi Nguyen Tran Pham
Lê Œuvrard Lætitia-Marchand Cœur Sœur D'Arc D'Alembert D'Aubigné De_La_Fontaine De_Gaulle
Du_Bellay De_Sousa Dos_Santos Van_Damme Le_Pen_Morvan Saint-Exupéry Lacoste-Dumas
Bouvier-Leroy Martin-Dupont Petit-Jean Grand-Pierre Coste-Floret""")
FIRST_NAMES = _words("""Marie Jean Pierre Michel André Philippe Nathalie Isabelle Sylvie
Catherine Françoise Anne Christine Monique Valérie Sandrine Nicolas Julien Stéphane David
Christophe Sébastien
Frédéric Laurent Thierry Patrick Éric Céline Aurélie Émilie Julie Camille Léa Manon Chloé
Inès Zoé Lucas Hugo Louis Gabriel Raphaël Arthur Noé Jules Adam Mohamed Yasmine Fatoumata
Awa Mamadou Moussa Aïcha Ibrahim Karima Nadia Rachid Mehdi Sofiane Leïla Hélène Agnès Josée
Noëlle Joël Gaëlle Maëlle Anaïs Loïc Maïwenn Cécile Béatrice Thérèse Jérôme Grégoire Benoît
Anne-Sophie Marie-Claire Jean-Pierre Jean-Marc Pierre-Yves Marie-Hélène Anne-Laure Jean-Luc
Marie-Ange Paul-Émile Lætitia Œnone Zoé-Lou Marc-Antoine Louis-Philippe Yann Gwenaëlle
Ronan Maël Solène Océane Clémence Mathilde Élodie Margaux Romane Théo Nathan Enzo Tom""")
BALLOTS = [
    "CSA de proximité de Créteil",
    "CSA académique de Créteil",
    "CSA ministériel de l'éducation nationale",
    "CAPA des professeurs certifiés",
    "CAPD de Seine-Saint-Denis",
    "CCP des AESH",
    "CCP des AED",
]
CATEGORIES = ["Premier degré", "Second degré", "AED", "AESH", "ATSS", "CPE", "Psy-EN"]
DEPARTEMENTS = ["77", "93", "94"]
TOWNS = ["Créteil", "Bobigny", "Melun", "Saint-Denis", "Vitry-sur-Seine", "Meaux", "Montreuil"]


STEMS = _words("""Bour Chau Mar Ber Gir Lam Ros Dub Fon Cour Mont Beau Vil Roch Lav Bel Cham Char
Pel Mor Ren Gau Bar Ben Fer Car Mas Tes Riv Bon Bra Gra Lou Mau Pou Vau Jou Sau Lar Col""")
ENDINGS = _words("""et ot ard aud eau ier iere in ine ois on onne ault aux elle ez y ac as eux ès é
ière ée ôme aîne""")


def surname() -> str:
    """Half from a list of frequent surnames, half composed: a roll has many rare names."""
    if random.random() < 0.5:
        return random.choice(SURNAMES).replace("_", " ")
    name = random.choice(STEMS) + random.choice(ENDINGS) + random.choice(["", "", "l", "n"])
    if random.random() < 0.08:
        name = f"{name}-{random.choice(SURNAMES).replace('_', ' ')}"
    elif random.random() < 0.05:
        name = f"{random.choice(['de', 'du', 'Le', 'La', 'de La', 'des'])} {name}"
    return name


def first_name() -> str:
    first = random.choice(FIRST_NAMES)
    return f"{first} {random.choice(FIRST_NAMES)}" if random.random() < 0.05 else first


def generate(path: Path, rows: int) -> list[tuple[str, str]]:
    """Write the roll CSV; returns the (surname, first name) of the people on it."""
    people: list[tuple[str, str]] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Nom d'usage;Prénom;Scrutin;Catégorie;Département;Établissement\r\n")
        written = 0
        while written < rows:
            person = (surname().upper(), first_name())
            people.append(person)
            category = random.choice(CATEGORIES)
            place = f"{random.choice(['Collège', 'Lycée', 'École'])} {random.choice(TOWNS)}"
            dep = random.choice(DEPARTEMENTS)
            for ballot in random.sample(BALLOTS, k=random.choice([1, 1, 1, 2])):
                if written < rows:
                    out.write(f"{person[0]};{person[1]};{ballot};{category};{dep};{place}\r\n")
                    written += 1
    return people


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typed(person: tuple[str, str]) -> str:
    """How a voter might type a name on the roll: case, accents and order vary."""
    surname, first = person
    variants = [
        f"{surname} {first}",
        f"{first} {surname.title()}",
        plain(f"{first} {surname}").lower(),
        plain(f"{surname} {first}").upper().replace("-", " "),
    ]
    return random.choice(variants)


def typo(text: str) -> str:
    """One letter replaced by another (never a space or a hyphen)."""
    letters = [i for i, c in enumerate(text) if c.isalpha() and i > 0]
    i = random.choice(letters)
    other = random.choice([c for c in "aeioutrsnl" if c != plain(text[i]).lower()])
    return text[:i] + other + text[i + 1 :]


def queries(people: list[tuple[str, str]], count: int) -> list[str]:
    found = [typed(random.choice(people)) for _ in range(count * 6 // 10)]
    typos = [typo(f"{p[0]} {p[1]}") for p in random.sample(people, count * 2 // 10)]
    absent = [f"{surname()}x {first_name()}" for _ in range(count - len(found) - len(typos))]
    mixed = found + typos + absent
    random.shuffle(mixed)
    return mixed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in seconds)


def bare_import(csv_path: Path, db_path: Path) -> float:
    """The baseline: the same file through `csv` into a plain SQLite table; seconds taken."""
    started = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE roll (surname TEXT, first_name TEXT, ballot TEXT, category TEXT, "
        "departement TEXT, establishment TEXT)"
    )
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        with db:
            db.executemany("INSERT INTO roll VALUES (?, ?, ?, ?, ?, ?)", reader)
    db.close()
    return time.perf_counter() - started


async def main(rows: int, lookups: int, repeat: int) -> None:
    random.seed(2022)
    now = datetime(2022, 11, 2, 10, 0, tzinfo=PARIS)
    print(" ".join(["command: .venv/bin/python -m bench.roll_bench", *sys.argv[1:]]))
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "roll.csv"
        people = generate(csv_path, rows)
        ours: list[float] = []
        bare: list[float] = []
        for i in range(repeat):
            bare.append(bare_import(csv_path, Path(tmp) / f"bare{i}.sqlite3"))
            store = await open_store(Path(tmp) / f"bench{i}.sqlite3")
            report = await import_roll(store, csv_path, now)
            ours.append(report.seconds)
            if i < repeat - 1:
                await store.close()
        try:
            print(
                f"import: {report.imported:,} rows ({report.rejected_count} rejected) in "
                f"{min(ours):.2f} s (runs {_runs(ours)})"
            )
            print(f"bare csv + sqlite3 import, same file: {min(bare):.2f} s (runs {_runs(bare)})")
            print(f"ratio: {min(ours) / min(bare):.1f} × the bare import (target ≤ 3 ×)")
            asked = queries(people, lookups)
            statuses: dict[str, int] = {}
            times = []
            for name in asked:
                started = time.perf_counter()
                answer = await find(store, name)
                times.append((time.perf_counter() - started) * 1000)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            handler = RollLookup(store, per_hour=lookups * 10)
            chat_times = []
            for i, name in enumerate(asked[:2000]):
                ctx = Context(now=now, phase="activation", data={}, user_id=i)
                started = time.perf_counter()
                await handler(name, ctx)
                chat_times.append((time.perf_counter() - started) * 1000)
        finally:
            await store.close()
    print(
        f"look-ups: {len(times):,}  p50 {statistics.median(times):.3f} ms  "
        f"p99 {percentile(times, 0.99):.3f} ms  max {max(times):.3f} ms (target p99 ≤ 2 ms)"
    )
    print("  results: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(
        f"chat handler (rate limit + look-up + audit write), {len(chat_times):,} calls: "
        f"p50 {statistics.median(chat_times):.3f} ms  p99 {percentile(chat_times, 0.99):.3f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="imports of each kind; best kept")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.lookups, max(1, args.repeat)))
