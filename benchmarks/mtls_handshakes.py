"""Mutual-TLS handshakes per second on the gateway's TLS port, against a bare ``ssl`` server.

The gateway runs in its own process (a throwaway SQLite database and CA, the real
``gateway_ssl_context``, ``PlatformGatekeeper`` and ``Gateway``); next to it, in the same process
and with the same ``SSLContext``, a bare asyncio TLS server that only completes handshakes: the
ceiling for this machine, Python's ``ssl`` and this load generator. The load generator runs in
this process with ``--concurrency`` connections at a time, for EC P-256 and RSA 2048 client
certificates, against three targets:

- ``bare tls``: the bare server, TLS handshake then close;
- ``gateway tls``: the gateway port, TLS handshake then close (OpenSSL's chain check only);
- ``gateway ws``: the gateway port, TLS handshake, WebSocket upgrade to ``/ocpp/{id}`` with the
  station's certificate (admission: station record, ``check_station_certificate``, revocation),
  ``101 Switching Protocols``, then close. This is what a reconnecting station costs.
- ``admit-all ws``: the same against a second ``Gateway`` whose gatekeeper admits everyone
  without looking: what the WebSocket server alone costs, so ``gateway ws / admit-all ws`` is
  the share left to the platform's admission.

    PYTHONPATH=. .venv/bin/python benchmarks/mtls_handshakes.py --count 600 --concurrency 8

``--profile FILE`` writes the gateway process's cProfile statistics to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import multiprocessing
import os
import platform
import ssl
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session

from app.audit import Actor
from app.db import make_engine
from app.edge import PlatformGatekeeper, station_passwords
from app.migrate import upgrade
from app.platform import build_platform
from app.settings import Settings
from app.tls import gateway_ssl_context
from charging import registry
from common.clock import utcnow
from ocpp_edge.admission import Admission, HandshakeRequest, SecurityProfile
from ocpp_edge.server import Gateway
from pki import KeyKind, generate_private_key
from tests.gateway.conftest import FakeSink
from tests.pki.builders import csr_pem, make_csr

KINDS = (KeyKind.EC_P256, KeyKind.RSA_2048)
PASSWORD = "benchmark-password-0123"
ROUNDS = 10


@dataclass(frozen=True, slots=True)
class Endpoints:
    gateway_port: int
    bare_port: int
    admit_all_port: int


class AdmitAll:
    """A gatekeeper that checks nothing: the WebSocket server's own cost, for comparison."""

    async def admit(self, _request: HandshakeRequest) -> Admission:
        return Admission.admit(SecurityProfile.CLIENT_CERTIFICATE)


def station_ids(kind: KeyKind, concurrency: int) -> list[str]:
    return [f"BENCH-{kind.value.upper()}-{i}" for i in range(concurrency)]


def _enrol(platform_: object, directory: Path, station_id: str, kind: KeyKind) -> None:
    ca = platform_.ca  # type: ignore[attr-defined]
    key = generate_private_key(kind)
    with Session(ca.engine) as session:
        registry.add_station(
            session, station_id, PASSWORD, passwords=station_passwords(), now=utcnow(), profile=3
        )
        issued = ca.issue_station_certificate(
            session,
            csr_pem(make_csr(key, station_id)),
            station_id=station_id,
            actor=Actor("benchmark"),
            now=utcnow(),
        )
        session.commit()
    (directory / f"{station_id}.chain.pem").write_text(issued.chain_pem)
    (directory / f"{station_id}.key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


async def _serve(directory: Path, concurrency: int, pipe: Connection) -> None:
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory}/b.db")
    platform_ = build_platform(settings)
    upgrade(make_engine(settings.resolved_database_url))
    platform_.ca.initialize(now=utcnow())
    for kind in KINDS:
        for station_id in station_ids(kind, concurrency):
            _enrol(platform_, directory, station_id, kind)
    (directory / "root.pem").write_text(platform_.ca.root_pem())
    context = gateway_ssl_context(platform_.ca)
    gateway = Gateway(
        PlatformGatekeeper(platform_.engine, station_passwords(), certificates=platform_.ca),
        FakeSink(),
    )
    server = await gateway.listen("127.0.0.1", 0, context)
    admit_all = Gateway(AdmitAll(), FakeSink())
    admit_all_server = await admit_all.listen("127.0.0.1", 0, context)

    async def handshake_only(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    bare = await asyncio.start_server(handshake_only, "127.0.0.1", 0, ssl=context)
    bare_port = next(iter(bare.sockets)).getsockname()[1]
    pipe.send(Endpoints(Gateway.port_of(server), bare_port, Gateway.port_of(admit_all_server)))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)  # until the load generator is done
    bare.close()
    await gateway.close()
    await admit_all.close()
    platform_.engine.dispose()


def serve(directory: str, concurrency: int, pipe: Connection, profile: str | None) -> None:
    """The gateway process: set up, report the ports, serve until told to stop."""
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    asyncio.run(_serve(Path(directory), concurrency, pipe))
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)


def client_context(directory: Path, station_id: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=directory / "root.pem")
    context.load_cert_chain(
        directory / f"{station_id}.chain.pem", directory / f"{station_id}.key.pem"
    )
    return context


def upgrade_request(station_id: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    ).encode()


async def _one(port: int, context: ssl.SSLContext, station_id: str | None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    try:
        if station_id is not None:
            writer.write(upgrade_request(station_id))
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101 "):
                raise RuntimeError(f"upgrade refused: {head.splitlines()[0]!r}")
    finally:
        writer.transport.abort()


async def run_target(
    port: int, contexts: dict[str, ssl.SSLContext], count: int, websocket: bool
) -> tuple[int, float]:
    """(handshakes, seconds) with one task per station, about ``count`` in all."""
    per_task = max(1, count // len(contexts))

    async def station(station_id: str, context: ssl.SSLContext) -> None:
        for _ in range(per_task):
            await _one(port, context, station_id if websocket else None)

    started = time.perf_counter()
    await asyncio.gather(*(station(sid, ctx) for sid, ctx in contexts.items()))
    return per_task * len(contexts), time.perf_counter() - started


async def generate_load(
    directory: Path, endpoints: Endpoints, count: int, concurrency: int
) -> None:
    """Each figure is measured in ``ROUNDS`` turns, interleaved with the others, so that a
    machine busy with other work slows every target alike."""
    header = f"{'client key':<10} {'bare tls/s':>11} {'gateway tls/s':>14} {'ratio':>6}"
    header += f" {'gateway ws/s':>13} {'ratio':>6} {'admit-all ws/s':>15} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    targets = {
        "bare": (endpoints.bare_port, False),
        "tls": (endpoints.gateway_port, False),
        "ws": (endpoints.gateway_port, True),
        "alone": (endpoints.admit_all_port, True),
    }
    for kind in KINDS:
        contexts = {sid: client_context(directory, sid) for sid in station_ids(kind, concurrency)}
        for port, websocket in targets.values():  # warm up: first connections, caches
            await run_target(port, contexts, 2 * concurrency, websocket)
        done = dict.fromkeys(targets, 0)
        spent = dict.fromkeys(targets, 0.0)
        for _ in range(ROUNDS):
            for name, (port, websocket) in targets.items():
                handshakes, seconds = await run_target(port, contexts, count // ROUNDS, websocket)
                done[name] += handshakes
                spent[name] += seconds
        rate = {name: done[name] / spent[name] for name in targets}
        print(
            f"{kind.value:<10} {rate['bare']:>11.0f} {rate['tls']:>14.0f}"
            f" {rate['tls'] / rate['bare']:>6.0%} {rate['ws']:>13.0f}"
            f" {rate['ws'] / rate['bare']:>6.0%} {rate['alone']:>15.0f}"
            f" {rate['ws'] / rate['alone']:>6.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="handshakes per figure")
    parser.add_argument("--concurrency", type=int, default=8, help="connections at a time")
    parser.add_argument("--profile", help="write the gateway process's cProfile stats here")
    args = parser.parse_args()
    count = max(1, min(args.count, 100_000))
    concurrency = max(1, min(args.concurrency, 256))
    print(
        f"python {platform.python_version()}, {ssl.OPENSSL_VERSION}, {os.cpu_count()} CPUs,"
        f" {count} handshakes per figure, {concurrency} at a time, gateway in its own process"
    )
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as name:
        ours, theirs = spawn.Pipe()
        server = spawn.Process(target=serve, args=(name, concurrency, theirs, args.profile))
        server.start()
        try:
            endpoints: Endpoints = ours.recv()
            asyncio.run(generate_load(Path(name), endpoints, count, concurrency))
        finally:
            ours.send("stop")
            server.join(timeout=30)


if __name__ == "__main__":
    main()
