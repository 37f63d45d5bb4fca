"""A connection that closes while a command is being sent: the caller gets StationOffline and
the command's future leaves no "exception was never retrieved" behind."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from websockets.exceptions import ConnectionClosed

from charging.commands import Reset, ResetMode
from ocpp_edge.protocol import StationProtocol
from ocpp_edge.session import StationOffline, StationSession


class ClosingConnection:
    """Stands in for the websocket: the peer goes away while the platform's frame is on its way
    (the reader sees the end first, then the send fails)."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.reader_done = asyncio.Event()

    async def send(self, frame: str) -> None:
        self.closed.set()
        await self.reader_done.wait()
        raise ConnectionClosed(None, None)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str]:
        await self.closed.wait()
        return
        yield  # an async generator that ends when the connection closes


async def test_a_send_failing_after_the_reader_ended_leaves_no_unretrieved_future() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    connection = ClosingConnection()
    session = StationSession(
        cast(Any, connection), StationProtocol("1.6", "CP-1"), cast(Any, None), cast(Any, None)
    )

    async def read() -> None:
        await session.run()
        connection.reader_done.set()

    reader = asyncio.create_task(read())
    with pytest.raises(StationOffline):
        await session.call(Reset(ResetMode.ON_IDLE), timeout=5)
    await reader
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    assert [c for c in reported if "never retrieved" in str(c.get("message"))] == []
