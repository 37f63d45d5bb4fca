"""Wait for a condition instead of sleeping: the one helper every test uses.

``eventually`` polls a check until it holds (or returns a value that is not None/False) and
fails with the last value seen when the timeout runs out. ``eventually_sync`` is the same for
code outside an event loop (threads, subprocesses, a live server).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
    message: str = "the condition did not come true in time",
) -> T:
    """Await until ``check()`` (plain or async) returns something truthy; return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"{message} (last value: {value!r})")
        await asyncio.sleep(interval)


def eventually_sync(
    check: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.02,
    message: str = "the condition did not come true in time",
) -> T:
    """Block until ``check()`` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (last value: {value!r})")
        time.sleep(interval)
