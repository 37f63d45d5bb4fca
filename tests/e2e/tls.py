"""Stations with certificates and the gateway's TLS port, for the openssl and profile 3 tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session

from app.audit import Actor
from app.ca import CertificateAuthority
from app.platform import Platform
from ocpp_edge.server import Gateway
from pki import KeyKind, RevocationReason, generate_private_key
from pki.keys import PrivateKey
from tests.pki.builders import csr_pem, make_csr

NOW = datetime.now(UTC).replace(microsecond=0)


PASSWORD = "station-password-0001"


@dataclass
class StationKeys:
    """A station's key and issued chain, written where openssl and ssl can read them."""

    serial_hex: str
    cert: Path
    key: Path
    chain: Path


def enrol(ca: CertificateAuthority, directory: Path, station_id: str, kind: KeyKind) -> StationKeys:
    key: PrivateKey = generate_private_key(kind)
    with Session(ca.engine) as session:
        issued = ca.issue_station_certificate(
            session,
            csr_pem(make_csr(key, station_id)),
            station_id=station_id,
            actor=Actor("test"),
            now=datetime.now(UTC),  # not NOW: other modules enrol long after this one loaded
        )
        session.commit()
    files = StationKeys(
        issued.serial_hex,
        directory / f"{station_id}-{kind}.pem",
        directory / f"{station_id}-{kind}.key",
        directory / f"{station_id}-{kind}-chain.pem",
    )
    files.cert.write_text(issued.certificate_pem)
    files.chain.write_text(issued.chain_pem)
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass
class TlsGateway:
    platform: Platform
    gateway: Gateway
    port: int
    files: Path

    @property
    def root(self) -> Path:
        return self.files / "root.pem"

    def revoke(self, serial_hex: str) -> None:
        with Session(self.platform.engine) as session:
            self.platform.ca.revoke(
                session,
                serial_hex,
                RevocationReason.KEY_COMPROMISE,
                actor=Actor("test"),
                now=datetime.now(UTC),
            )
            session.commit()
