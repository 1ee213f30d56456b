"""The event loop the bot serves on: uvloop where it is installed, asyncio's own elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # e.g. on Windows, where uvloop does not build
    uvloop = None  # type: ignore[assignment]


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's (libuv: less time spent per callback, hop and socket event
    than asyncio's pure-Python loop), or asyncio's default."""
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a new loop (as `asyncio.run`)."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)
