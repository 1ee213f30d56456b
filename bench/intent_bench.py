"""Intent benchmark: training time, model memory and per-message classification latency.

    .venv/bin/python -m bench.intent_bench [--rounds 20]

Trains the shipped model in a child process with an empty cache (what the bot does at its
first start), then reads it from the cache (every later start), in this process, which never
imports scikit-learn; then classifies every held-out message and a sample of corpus lines
`--rounds` times, one message at a time. The bare baseline, in the same run, is the
normalisation alone (folding + SMS spelling), the least any router does before deciding.
Each message is timed twice over: wall clock, and the CPU time of the thread (what
classifying costs, without the waits of a machine shared with other processes). Memory:
Python allocations kept by the model built under tracemalloc (numpy included), and the
process's resident size before and after loading it.
Targets: training ≤ 5 s, classification p99 ≤ 2 ms, model ≤ 30 MB.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.intent import IntentModel, decide, modelfile, normalise
from bot.intent.corpus import load_corpus, load_file

HOLDOUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "intents_holdout.tsv"


def _latencies(
    run: Callable[[str], object], texts: list[str], rounds: int
) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(rounds):
        for text in texts:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            run(text)
            cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - start) / 1e6)
    return wall, cpu


def _row(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100)
    return f"| {name} | {len(ms)} | {q[49]:.3f} ms | {q[94]:.3f} ms | {q[98]:.3f} ms |"


def main() -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    corpus = load_corpus()
    texts = [t for _, t in load_file(HOLDOUT)] + [t for _, t in corpus[::10]]
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="intent-bench-") as tmp:
        path, key = Path(tmp) / "intent.npz", modelfile.model_key()
        start = time.perf_counter()
        modelfile.train_in_child(path)
        seconds = time.perf_counter() - start
        gc.collect()
        rss_before = process.memory_info().rss
        start = time.perf_counter()
        exported = modelfile.load(path, key)
        assert exported is not None
        model = IntentModel(exported)
        load_seconds = time.perf_counter() - start
        gc.collect()
        rss_after = process.memory_info().rss
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        second = IntentModel(modelfile.load(path, key) or exported)  # read and built again
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del second, exported
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})
    for text in texts[:50]:  # warm-up
        decide(model.classify(text))
    bare, bare_cpu = _latencies(normalise, texts, args.rounds)
    full, full_cpu = _latencies(lambda t: decide(model.classify(t)), texts, args.rounds)
    mb = 1024 * 1024
    print(f"corpus: {len(corpus)} lines; messages timed: {len(texts)} x {args.rounds}")
    print(f"training in a child process (empty cache): {seconds:.2f} s wall")
    print(f"loading the cached model: {load_seconds * 1000:.0f} ms")
    print(f"scikit-learn / SciPy imported by this process: {', '.join(heavy) or 'neither'}")
    print(f"load average: {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    print(f"model memory: {kept / mb:.1f} MB kept (tracemalloc)")
    print(f"process RSS: {rss_before / mb:.0f} MB before loading, {rss_after / mb:.0f} MB after")
    print()
    print("| run | messages | p50 | p95 | p99 |")
    print("|---|---|---|---|---|")
    print(_row("bare baseline: normalise only (wall)", bare))
    print(_row("votebot: classify + decide (wall)", full))
    print(_row("bare baseline: normalise only (CPU)", bare_cpu))
    print(_row("votebot: classify + decide (CPU)", full_cpu))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
