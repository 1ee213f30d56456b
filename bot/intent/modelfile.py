"""The exported intent model: a file of plain arrays, trained in a child process, cached.

The bot never trains in its own process: `shipped()` reads the model from the cache folder
(`$XDG_CACHE_HOME/votebot`, else `~/.cache/votebot`) when a file there was made from the
same corpus, code and library versions, and otherwise runs `python -m bot.intent.train` in a
child process, which writes it. Files are written atomically, read without pickle, checked
on load and ignored when stale or damaged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.intent.features import check_options

log = logging.getLogger(__name__)

FORMAT = 1
# What the model depends on besides library versions: data and the code that reads it.
SOURCES = (
    "data/intent_corpus.tsv",
    "data/sms.tsv",
    "intent/corpus.py",
    "intent/features.py",
    "intent/modelfile.py",
    "intent/text.py",
    "intent/train.py",
    "textfold.py",
)
LIBRARIES = ("scikit-learn", "scipy", "numpy", "threadpoolctl")


@dataclass(frozen=True)
class Exported:
    """A trained model as plain data: vectorizers (in column order) and the linear scores."""

    options: tuple[dict[str, Any], ...]  # each vectorizer's settings
    terms: tuple[tuple[str, ...], ...]  # each vectorizer's n-grams, by column
    idf: tuple[np.ndarray, ...]
    coef: np.ndarray  # (intents, features)
    intercept: np.ndarray  # (intents,)
    classes: tuple[str, ...]  # the intents, in the order of coef's rows


def model_key() -> str:
    """A digest of everything the trained model depends on (a cached file must carry it)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    python = f"python {sys.version_info[:2]} unicode {unicodedata.unidata_version}\n"
    digest.update(python.encode())
    for name in LIBRARIES:
        digest.update(f"{name} {metadata.version(name)}\n".encode())
    package = resources.files("bot")
    for source in SOURCES:
        digest.update(f"{source}\n".encode())
        digest.update(package.joinpath(source).read_bytes())
    return digest.hexdigest()


def save(path: Path, model: Exported, key: str) -> None:
    """Write the model atomically: a temporary file beside it, then renamed over it."""
    meta = {
        "format": FORMAT,
        "key": key,
        "options": list(model.options),
        "classes": list(model.classes),
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(json.dumps(meta)),
        "coef": model.coef,
        "intercept": model.intercept,
    }
    for i, (terms, idf) in enumerate(zip(model.terms, model.idf, strict=True)):
        arrays[f"terms{i}"] = np.array(terms, dtype=str)
        arrays[f"idf{i}"] = idf
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, allow_pickle=False, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, key: str) -> Exported | None:
    """The model in `path` if it was made for `key` and is whole; otherwise None."""
    if not path.exists():
        return None
    try:
        model = _read(path, key)
    except Exception as error:  # a damaged file of any kind is only a cache miss
        log.warning("intent model cache %s unreadable (%s): training again", path, error)
        return None
    if model is None:
        log.info("intent model cache %s is stale: training again", path)
    return model


def _read(path: Path, key: str) -> Exported | None:
    """The model in `path`, checked for shapes and finite values; None if made for another key."""
    with open(path, "rb") as raw, np.load(raw, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta["format"] != FORMAT or meta["key"] != key:
            return None
        count = len(meta["options"])
        terms = tuple(tuple(data[f"terms{i}"].tolist()) for i in range(count))
        idf = tuple(data[f"idf{i}"] for i in range(count))
        coef, intercept = data["coef"], data["intercept"]
    classes = tuple(str(c) for c in meta["classes"])
    features = sum(len(t) for t in terms)
    if coef.shape != (len(classes), features) or intercept.shape != (len(classes),):
        raise ValueError("coefficients do not match the vocabulary")
    if any(i.shape != (len(t),) for i, t in zip(idf, terms, strict=True)):
        raise ValueError("IDF does not match the vocabulary")
    for array in (coef, intercept, *idf):
        if array.dtype.kind != "f" or not np.isfinite(array).all():
            raise ValueError("non-numeric or non-finite values")
    options = tuple(dict(o) for o in meta["options"])
    for option in options:
        check_options(option)
    return Exported(options, terms, idf, coef, intercept, classes)


def cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/votebot` (else `~/.cache/votebot`), created private; None if unusable."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "votebot"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def train_in_child(path: Path) -> None:
    """Run `python -m bot.intent.train path` (scikit-learn lives and dies in that process)."""
    root = str(Path(__file__).resolve().parents[2])  # where `bot` is, installed or not
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "bot.intent.train", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": pythonpath},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"training the intent model failed:\n{done.stderr[-2000:]}")


def shipped() -> Exported:
    """The model of the shipped corpus: from the cache, else trained in a child process."""
    key = model_key()
    folder = cache_dir()
    with tempfile.TemporaryDirectory(prefix="votebot-intent-") as tmp:
        path = folder / f"intent-{key[:24]}.npz" if folder else Path(tmp) / "intent.npz"
        model = load(path, key)
        if model is None:
            train_in_child(path)
            model = load(path, key)
        if model is None:
            raise RuntimeError(f"the trained intent model in {path} cannot be read")
        return model
