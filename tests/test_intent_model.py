"""The intent model outside the bot: trained in a child process, cached on disk, replayed.

The running bot must never import scikit-learn or SciPy (about 73 MB of memory): the real
`votebot run` is started with an empty cache, answers a free-text question, and reports what
it imported and its peak memory when it stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.intent import IntentModel
from bot.intent import modelfile as mf
from bot.intent.corpus import load_corpus
from bot.intent.train import export, fit
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.http import FakeBotAPIServer
from tests.fakes.process import TOKEN

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "scipy")
TEXTS = ("j'ai paumé mon code", "Bonjour, AESH dans le 93. kan ca ferme ?", "zzz", "")
# What `votebot run` imported and its peak resident size, written when the process ends.
REPORT_AT_EXIT = """
import atexit, json, sys
def report():
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
    with open("/proc/self/status") as status:  # ru_maxrss would count the parent's, at fork
        peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
    with open(sys.argv[1], "w") as out:
        json.dump({{"heavy": heavy, "peak": peak}}, out)
atexit.register(report)
from bot.cli import main
sys.exit(main(["run"]))
"""
MODEL_MEMORY = """
import json, resource, sys
import numpy
from bot.intent import classify, model
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
before = rss()
model()
after = rss()
classify("j'ai perdu mon code de vote")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print(json.dumps({{"before": before, "after": after, "heavy": heavy}}))
"""


@pytest.fixture(scope="module")
def trained() -> mf.Exported:
    return export(fit(load_corpus()))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    yield tmp_path / "xdg" / "votebot"


def _same(a: IntentModel, b: IntentModel) -> bool:
    return all(np.array_equal(a.scores(t)[0], b.scores(t)[0]) for t in TEXTS)


def test_votebot_run_never_imports_scikit_learn_or_scipy(tmp_path: Path) -> None:
    api = FakeBotAPI()
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "VOTEBOT_DB": str(tmp_path / "votebot.sqlite3"),
        "VOTEBOT_NOW": "2022-11-02T10:00:00",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # empty: the model is trained, in a child
        "PYTHONPATH": str(ROOT),
    }
    with FakeBotAPIServer(api, token=TOKEN) as server:
        env["TELEGRAM_API_BASE_URL"] = server.base_url
        command = [sys.executable, "-c", REPORT_AT_EXIT.format(heavy=HEAVY), str(report)]
        with open(tmp_path / "bot.log", "w") as log:
            bot = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            api.push(api.text_update(555, "j'ai perdu mon code de vote"))
            api.wait_for(lambda: len(api.sent(555)) == 1, timeout=60)
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(timeout=30)
    assert "Code de vote perdu" in api.sent(555)[0].params["text"]  # understood
    figures = json.loads(report.read_text())
    print(f"votebot run, empty store: peak RSS {figures['peak'] / 2**20:.0f} MB")
    assert figures["heavy"] == []
    assert figures["peak"] < 150 * 2**20  # the target, here with an empty store
    assert list((tmp_path / "cache" / "votebot").glob("intent-*.npz"))  # the child's work


def test_loading_the_model_imports_neither_and_costs_little_memory() -> None:
    out = subprocess.run(
        [sys.executable, "-c", MODEL_MEMORY.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(out.stdout)
    before, after = figures["before"] / 2**20, figures["after"] / 2**20
    print(f"RSS {before:.0f} MB with numpy, {after:.0f} MB with the model loaded")
    assert figures["heavy"] == []
    assert after - before < 30  # the model's arrays and vocabularies (scikit-learn alone: 73)


def test_the_child_process_trains_the_model_the_bot_replays(
    cache: Path, trained: mf.Exported
) -> None:
    assert not cache.exists()
    from_child = IntentModel(mf.shipped())
    (written,) = cache.glob("intent-*.npz")
    assert written.name == f"intent-{mf.model_key()[:24]}.npz"
    assert _same(from_child, IntentModel(trained))
    assert [p.name for p in cache.iterdir()] == [written.name]  # no temporary file left


def test_a_cached_model_is_read_without_training(
    cache: Path, trained: mf.Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    mf.save(cache / f"intent-{mf.model_key()[:24]}.npz", trained, mf.model_key())

    def no_training(path: Path) -> None:
        raise AssertionError("trained although the cache holds the model")

    monkeypatch.setattr(mf, "train_in_child", no_training)
    assert _same(IntentModel(mf.shipped()), IntentModel(trained))


def _fake_trainer(trained: mf.Exported, calls: list[Path]):
    def train(path: Path) -> None:
        calls.append(path)
        mf.save(path, trained, mf.model_key())

    return train


@pytest.mark.parametrize(
    "damage", ["truncated", "other key", "wrong shape", "not a zip", "setting not replayed"]
)
def test_a_stale_or_damaged_cache_is_ignored_and_replaced(
    cache: Path, trained: mf.Exported, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    path = cache / f"intent-{mf.model_key()[:24]}.npz"
    if damage == "other key":
        mf.save(path, trained, "a model of another corpus")
    elif damage == "wrong shape":
        cut = mf.Exported(**{**vars(trained), "coef": trained.coef[:, :-1]})
        mf.save(path, cut, mf.model_key())
    elif damage == "setting not replayed":
        binary = ({**trained.options[0], "binary": True}, trained.options[1])
        mf.save(path, mf.Exported(**{**vars(trained), "options": binary}), mf.model_key())
    elif damage == "truncated":
        mf.save(path, trained, mf.model_key())
        path.write_bytes(path.read_bytes()[:5000])
    else:
        cache.mkdir(parents=True)
        path.write_text("garbage")
    calls: list[Path] = []
    monkeypatch.setattr(mf, "train_in_child", _fake_trainer(trained, calls))
    model = IntentModel(mf.shipped())
    assert calls == [path]
    assert _same(model, IntentModel(trained))
    assert mf.load(path, mf.model_key()) is not None  # replaced by a good one


def test_without_a_usable_cache_folder_the_model_is_trained_each_time(
    tmp_path: Path, trained: mf.Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    calls: list[Path] = []
    monkeypatch.setattr(mf, "train_in_child", _fake_trainer(trained, calls))
    assert _same(IntentModel(mf.shipped()), IntentModel(trained))
    assert len(calls) == 1 and not calls[0].exists()  # a private temporary folder, removed


def test_the_key_changes_with_the_corpus_code_and_library_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = mf.model_key()
    assert key == mf.model_key()
    monkeypatch.setattr(mf, "SOURCES", (*mf.SOURCES[1:], "intent/classifier.py"))
    assert mf.model_key() != key
    monkeypatch.undo()
    real = mf.metadata.version
    monkeypatch.setattr(
        mf.metadata, "version", lambda n: "0.0" if n == "scikit-learn" else real(n)
    )
    assert mf.model_key() != key
