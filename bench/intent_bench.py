"""Intent benchmark: training time, model memory and per-message classification latency.

    .venv/bin/python bench/intent_bench.py [--rounds 20]

Trains the shipped model from the corpus (what the bot does at start-up), then classifies
every held-out message and a sample of corpus lines `--rounds` times, one message at a time.
The bare baseline, in the same run, is the normalisation alone (folding + SMS spelling),
the least any router does before deciding. Each message is timed twice over: wall clock,
and the CPU time of the thread (what classifying costs, without the waits of a machine
shared with other processes). Memory: Python allocations kept by a second model built under
tracemalloc (numpy included), and the process's resident size before and after training.
Targets: training ≤ 5 s, classification p99 ≤ 2 ms, model ≤ 30 MB.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.intent import IntentModel, decide, normalise
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
    gc.collect()
    rss_before = process.memory_info().rss
    start, start_cpu = time.perf_counter(), time.process_time()
    model = IntentModel(corpus)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    gc.collect()
    rss_after = process.memory_info().rss
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    second = IntentModel(corpus)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del second
    for text in texts[:50]:  # warm-up
        decide(model.classify(text))
    bare, bare_cpu = _latencies(normalise, texts, args.rounds)
    full, full_cpu = _latencies(lambda t: decide(model.classify(t)), texts, args.rounds)
    mb = 1024 * 1024
    print(f"corpus: {len(corpus)} lines; messages timed: {len(texts)} x {args.rounds}")
    print(f"training at start-up: {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU")
    print(f"load average: {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    print(f"model memory: {kept / mb:.1f} MB kept (tracemalloc)")
    print(f"process RSS: {rss_before / mb:.0f} MB before training, {rss_after / mb:.0f} MB after")
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
