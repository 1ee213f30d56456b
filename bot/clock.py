"""The one clock of a running bot: election time, real time, monotonic time and sleep."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from bot.settings import PARIS


class Clock:
    """Owned by `Services`, shared by everything; tests set or advance it instead of waiting.

    Calling it gives the election time in Paris, pinned when `fixed` is set (`VOTEBOT_NOW`:
    demos, tests). `real()` is never pinned (leases and the inbox must expire). `monotonic()`
    and `sleep()` pace sends and time waits.
    """

    def __init__(self, fixed: datetime | None = None) -> None:
        self.fixed = fixed

    def __call__(self) -> datetime:
        """The election's "now": `fixed` when set, otherwise the real time in Paris."""
        return self.fixed if self.fixed is not None else datetime.now(PARIS)

    def real(self) -> datetime:
        """The real time (UTC), even when the election time is fixed."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (pacing, time-outs)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        await asyncio.sleep(seconds)
