"""A small electoral roll as a CSV file, shared by the roll tests."""

from __future__ import annotations

from pathlib import Path

HEADER = "Nom;Prénom;Scrutin;Catégorie;Département;Établissement\n"
ROWS = [
    "LEFÈVRE;Anne-Sophie;CSA de proximité de Créteil;AESH;93;Collège Jean Jaurès",
    "N'DIAYE;Awa;CSA de proximité de Créteil;Premier degré;094;École Pasteur",
    "DE LA FONTAINE;Jean;CSA de proximité de Créteil;2nd degré;77;Lycée Uruguay",
    "ŒUVRARD;Cécile;CSA de proximité de Créteil;ATSS;94;Rectorat",
    "LE GOFF;Yann;CSA de proximité de Créteil;AED;93;Collège Pablo Neruda",
    "D'ARC;Jeanne;CSA de proximité de Créteil;AED;77;Collège Condorcet",
    "MARTIN;Lætitia;CSA de proximité de Créteil;AESH;94;École Jules Ferry",
    "MARTIN;Lætitia;CAP des AESH;AESH;94;École Jules Ferry",
]


def write(path: Path, rows: list[str], header: str = HEADER, **encoding: str) -> Path:
    """Write `rows` under `header` to `path` (UTF-8 unless `encoding=` says otherwise)."""
    text = header + "\n".join(rows) + "\n"
    path.write_bytes(text.encode(encoding.get("encoding", "utf-8")))
    return path
