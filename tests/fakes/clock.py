"""A clock whose monotonic time only moves when something sleeps on it: schedules, not speed."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.clock import Clock


class FakeClock(Clock):
    """`sleep` advances the monotonic time at once (after letting other tasks run once)."""

    def __init__(self, fixed: datetime | None = None) -> None:
        super().__init__(fixed)
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
