"""A TLS terminator in front of the API, as deployments put one (``public_url`` https://...):
it accepts TLS on a free loopback port and pipes the plain bytes to the API and back."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Terminator:
    port: int = 0
    connections: int = 0  # TLS handshakes that completed


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while block := await reader.read(65536):
            writer.write(block)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
            writer.close()


@contextlib.asynccontextmanager
async def tls_terminator(
    upstream_port: int, cert_file: Path, key_file: Path
) -> AsyncIterator[Terminator]:
    """Listens on a free port; connections go to ``127.0.0.1:upstream_port``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    pipes: set[asyncio.Task[None]] = set()
    terminator = Terminator()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        terminator.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            writer.close()
            return
        for task in (
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ):
            pipes.add(task)
            task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        terminator.port = server.sockets[0].getsockname()[1]
        yield terminator
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        await server.wait_closed()
