"""How long /stats and /bloques take on a large store (run: python bench/support_stats.py [N]).

Seeds N voters (default 20,000) spread over the webmel flow with ~4 transition events each,
3 transcript lines each and 500 handoffs, then times the queries behind /stats (with the
chart) and /bloques. Prints one line per measurement.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.election import load_election
from bot.services import Services
from bot.settings import load_settings
from bot.support import MISUNDERSTOOD_MIN, STUCK_SHOWN, collect_stats, funnel_chart
from store.times import to_db

STEPS = ["has_address", "open_webmel", "enter_numen", "note_identifier", "done"]


async def seed(services: Services, n: int, now: datetime) -> None:
    rng = random.Random(6)
    users, convs, events, lines, handoffs = [], [], [], [], []
    for uid in range(1, n + 1):
        seen = now - timedelta(hours=rng.randint(0, 24 * 20))
        depth = rng.randint(1, len(STEPS))
        users.append((uid, f"V{uid}", to_db(seen), to_db(seen)))
        convs.append((uid, "webmel", STEPS[depth - 1], "{}", to_db(seen)))
        path = ["menu.main", *STEPS[:depth]]
        events += [(uid, to_db(seen), "webmel", a, b, "t") for a, b in itertools.pairwise(path)]
        lines += [(uid, to_db(seen), "in", "bonjour", int(rng.random() < 0.05))] * 3
        if uid <= 500:
            closed = to_db(seen + timedelta(minutes=rng.randint(5, 300))) if uid > 50 else None
            handoffs.append((uid, to_db(seen), closed))
    async with services.store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (user_id, first_name, first_seen, last_seen) VALUES (?,?,?,?)",
            users,
        )
        await conn.executemany(
            "INSERT INTO conversations (user_id, flow, state, data, updated_at) "
            "VALUES (?,?,?,?,?)",
            convs,
        )
        await conn.executemany(
            "INSERT INTO transition_events (user_id, at, flow, source, dest, trigger) "
            "VALUES (?,?,?,?,?,?)",
            events,
        )
        await conn.executemany(
            "INSERT INTO transcripts (user_id, at, direction, text, misunderstood) "
            "VALUES (?,?,?,?,?)",
            lines,
        )
        await conn.executemany(
            "INSERT INTO handoffs (user_id, opened_at, closed_at) VALUES (?,?,?)", handoffs
        )


async def main(n: int) -> None:
    now = datetime(2022, 11, 20, 12, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, VOTEBOT_DB=str(Path(tmp) / "b.sqlite3"))
        services = await Services.open(settings, load_election("creteil-2022"))
        try:
            await seed(services, n, now)
            t = time.perf_counter()
            stats = await collect_stats(services)
            t_stats = time.perf_counter() - t
            t = time.perf_counter()
            labels = {k: k for k in ("title", "legend")}
            png = funnel_chart(stats, labels)
            t_chart_first = time.perf_counter() - t
            t = time.perf_counter()
            png = funnel_chart(stats, labels)
            t_chart = time.perf_counter() - t
            t = time.perf_counter()
            stuck = await services.store.stuck_voters(
                now - timedelta(hours=48), MISUNDERSTOOD_MIN, STUCK_SHOWN
            )
            t_stuck = time.perf_counter() - t
        finally:
            await services.close()
    print(f"voters={n} /stats queries: {t_stats * 1000:.0f} ms")
    print(
        f"voters={n} funnel chart: first {t_chart_first * 1000:.0f} ms (imports matplotlib), "
        f"then {t_chart * 1000:.0f} ms ({len(png) // 1024} KiB PNG, in a worker thread)"
    )
    print(f"voters={n} /bloques query: {t_stuck * 1000:.0f} ms ({len(stuck)} listed)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
