"""Mutual-TLS handshakes per second on the gateway's TLS port, with EC and RSA client certificates.

Loopback only, bounded: a throwaway SQLite database and CA, the real ``gateway_ssl_context``, a
gateway on a free port, and ``--count`` sequential TLS handshakes per client key type (a
reconnect storm is many of these at once; this measures the per-handshake cost).

    PYTHONPATH=. .venv/bin/python benchmarks/mtls_handshakes.py --count 300

Measured on the development container (client and server share one event loop):
EC P-256 client ~99/s, RSA 2048 client ~96/s (server chain picked by the client).
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session

from app.audit import Actor
from app.clock import utcnow
from app.db import make_engine
from app.edge import PlatformGatekeeper, station_passwords
from app.migrate import upgrade
from app.platform import build_platform
from app.settings import Settings
from app.tls import gateway_ssl_context
from ocpp_edge.server import Gateway
from pki import KeyKind, generate_private_key
from tests.gateway.conftest import FakeSink
from tests.pki.builders import csr_pem, make_csr


def client_context(directory: Path, root_pem: str, chain: str, key_pem: bytes) -> ssl.SSLContext:
    (directory / "root.pem").write_text(root_pem)
    (directory / "chain.pem").write_text(chain)
    (directory / "key.pem").write_bytes(key_pem)
    context = ssl.create_default_context(cafile=directory / "root.pem")
    context.load_cert_chain(directory / "chain.pem", directory / "key.pem")
    return context


async def handshakes(port: int, context: ssl.SSLContext, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        writer.close()
        await writer.wait_closed()
    return count / (time.perf_counter() - started)


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory}/b.db")
        platform = build_platform(settings)
        upgrade(make_engine(settings.resolved_database_url))
        now = utcnow()
        platform.ca.initialize(now=now)
        gateway = Gateway(
            PlatformGatekeeper(platform.engine, station_passwords(), certificates=platform.ca),
            FakeSink(),
        )
        server = await gateway.listen("127.0.0.1", 0, gateway_ssl_context(platform.ca))
        port = Gateway.port_of(server)
        for kind in (KeyKind.EC_P256, KeyKind.RSA_2048):
            key = generate_private_key(kind)
            with Session(platform.engine) as session:
                issued = platform.ca.issue_station_certificate(
                    session,
                    csr_pem(make_csr(key, "BENCH-1")),
                    station_id="BENCH-1",
                    actor=Actor("benchmark"),
                    now=now,
                )
                session.commit()
            key_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            sub = directory / kind.value
            sub.mkdir()
            context = client_context(sub, platform.ca.root_pem(), issued.chain_pem, key_pem)
            await handshakes(port, context, min(20, count))  # warm up
            rate = await handshakes(port, context, count)
            print(
                f"client {kind.value:<9} {count:>5} mutual-TLS handshakes: {rate:8.1f} per second"
            )
        await gateway.close()
        platform.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    asyncio.run(main(max(1, min(parser.parse_args().count, 100_000))))
