"""Two real `votebot run --webhook` processes on one PostgreSQL behind a round-robin proxy: the
broadcast lease holder killed -9 mid-run and restarted (the small version of
bench/replica_test.py, which runs 200 voters)."""

from __future__ import annotations

from pathlib import Path

from bench.replica_test import parse, run_replicas


async def test_two_replicas_survive_a_kill_without_losing_or_repeating(
    pg_url: str, tmp_path: Path
) -> None:
    args = parse(["--voters", "30", "--steps", "8", "--pause", "1.5", "--recipients", "60",
                  "--rate", "15"])  # fmt: skip
    outcome = await run_replicas(pg_url, args, tmp_path)
    report = "\n".join(outcome.lines())
    assert outcome.problems == [], report
    assert outcome.run.answered == 30 * 8, report  # every update answered
    assert outcome.audit.duplicates <= outcome.window, report  # repeats only in the window
    assert outcome.audit.off_step == 0, report  # each voter at their committed step
    assert outcome.recipients >= 60 and outcome.lost == 0 and outcome.open == 0, report
    assert outcome.repeated <= outcome.in_flight, report
    assert min(outcome.routed) > 0, report  # both replicas served webhook calls
