"""A loopback TCP proxy in front of PostgreSQL that a test can cut and restore.

It runs its own event loop in a thread, so sync and async tests use it alike. ``cut()``
closes every proxied connection and refuses new ones (the database seems gone);
``restore()`` accepts again on the same port. The real server is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType

from sqlalchemy.engine import make_url


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]

    def url_for(self, database_url: str) -> str:
        """``database_url`` pointed at the proxy."""
        parsed = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def _run(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)  # type: ignore[arg-type]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.writers.difference_update((writer, up_writer))
            for end in (writer, up_writer):
                end.transport.abort()

    async def _start(self) -> None:
        if self.server is not None:
            return
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    def restore(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        self._run(self._stop())

    def __enter__(self) -> TcpProxy:
        self.thread.start()
        self.restore()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cut()
        self._run(self._cancel_pipes())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _cancel_pipes(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
