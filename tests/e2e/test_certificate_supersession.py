"""A new station certificate supersedes the old one; never more than one stays valid.

Issue 9 item 6: after re-enrollment the old certificate still opened a profile-3 connection.
Now it is revoked with reason superseded when the station first connects with the new one
(field renewal), or at once when the factory line enrolls the device again.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlmodel import Session, select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.audit import AuditEntry
from app.ca.tables import IssuedCertificateRow
from pki import KeyKind, generate_private_key
from tests.app.factory_line import device_body, stock_line
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import api_client
from tests.e2e.tls import StationKeys, enrol
from tests.factories import bearer, make_client
from tests.pki.builders import csr_pem, make_csr


def context(running: RunningPlatform, tmp_path: Path, keys: StationKeys) -> ssl.SSLContext:
    root = tmp_path / "root.pem"
    root.write_text(running.platform.ca.root_pem())
    ctx = ssl.create_default_context(cafile=root)
    ctx.load_cert_chain(keys.chain, keys.key)
    return ctx


def tls_url(running: RunningPlatform, station_id: str) -> str:
    return f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/{station_id}"


async def connects(running: RunningPlatform, tmp_path: Path, sid: str, keys: StationKeys) -> None:
    async with connect(
        tls_url(running, sid), subprotocols=["ocpp1.6"], ssl=context(running, tmp_path, keys)
    ):
        pass


async def refused(running: RunningPlatform, tmp_path: Path, sid: str, keys: StationKeys) -> str:
    with pytest.raises(InvalidStatus) as refusal:
        await connects(running, tmp_path, sid, keys)
    assert refusal.value.response.status_code == 401
    return refusal.value.response.body.decode()


def revoked_message(keys: StationKeys) -> str:
    return f"client certificate refused: certificate {int(keys.serial_hex, 16):x} is revoked\n"


async def crl_reasons(running: RunningPlatform) -> dict[int, x509.ReasonFlags | None]:
    async with api_client(running.api_url) as http:
        response = await http.get("/pki/crl/station.crl")
    assert response.status_code == 200
    crl = x509.load_der_x509_crl(response.content)
    reasons: dict[int, x509.ReasonFlags | None] = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        reasons[entry.serial_number] = reason
    return reasons


def live_serials(running: RunningPlatform, station_id: str) -> list[str]:
    with Session(running.platform.engine) as session:
        rows = session.exec(
            select(IssuedCertificateRow).where(
                IssuedCertificateRow.station_id == station_id,
                IssuedCertificateRow.status == "issued",
            )
        ).all()
    return [row.serial_hex for row in rows]


def supersessions(running: RunningPlatform) -> list[dict[str, object]]:
    with Session(running.platform.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "pki.certificate_revoked")
        ).all()
    found = []
    for entry in entries:
        detail = json.loads(entry.detail)
        found.append({"object_id": entry.object_id, "actor": entry.actor, **detail})
    return found


async def test_the_old_certificate_is_superseded_when_the_station_connects_with_the_new_one(
    running: RunningPlatform, tmp_path: Path
) -> None:
    running.add_station("CP-RENEW", profile=2)
    ca = running.platform.ca
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = enrol(ca, tmp_path / "old", "CP-RENEW", KeyKind.EC_P256)
    await connects(running, tmp_path, "CP-RENEW", old)
    new = enrol(ca, tmp_path / "new", "CP-RENEW", KeyKind.EC_P256)  # the renewal's chain
    await connects(running, tmp_path, "CP-RENEW", old)  # not yet installed: the old one works
    await connects(running, tmp_path, "CP-RENEW", new)
    assert await refused(running, tmp_path, "CP-RENEW", old) == revoked_message(old)
    await connects(running, tmp_path, "CP-RENEW", new)
    assert live_serials(running, "CP-RENEW") == [new.serial_hex]
    assert (await crl_reasons(running)) == {int(old.serial_hex, 16): x509.ReasonFlags.superseded}
    audited = [e for e in supersessions(running) if e["object_id"] == old.serial_hex]
    assert len(audited) == 1
    assert audited[0]["reason"] == "superseded"
    assert audited[0]["superseded_by"] == new.serial_hex
    assert audited[0]["actor"] == "station:CP-RENEW"


async def test_a_factory_re_enrollment_supersedes_the_old_certificate_at_once(
    running: RunningPlatform, tmp_path: Path
) -> None:
    platform = running.platform
    stock_line(platform)
    line = make_client(platform, "manufacturing", name="line-1")
    async with api_client(running.api_url) as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(line.client_id, line.client_secret),
        )
        headers = bearer(token.json()["access_token"])
        created = await http.post("/api/v1/devices", json=device_body("SN-77"), headers=headers)
        assert created.status_code in (200, 201), created.text
        issued = []
        for attempt in ("first", "second"):
            key = generate_private_key(KeyKind.EC_P256)
            answer = await http.post(
                "/api/v1/devices/SN-77/enroll",
                json={"csr": csr_pem(make_csr(key, "SN-77"))},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            directory = tmp_path / attempt
            directory.mkdir()
            keys = StationKeys(
                body["certificate_serial"],
                directory / "cert.pem",
                directory / "key.pem",
                directory / "chain.pem",
            )
            keys.cert.write_text(body["certificate_pem"])
            keys.chain.write_text(body["chain_pem"])
            keys.key.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            issued.append(keys)
    first, second = issued
    assert await refused(running, tmp_path, "SN-77", first) == revoked_message(first)
    await connects(running, tmp_path, "SN-77", second)
    assert live_serials(running, "SN-77") == [second.serial_hex]
    reasons = await crl_reasons(running)
    assert reasons == {int(first.serial_hex, 16): x509.ReasonFlags.superseded}
    audited = [e for e in supersessions(running) if e["object_id"] == first.serial_hex]
    assert [(e["reason"], e["superseded_by"]) for e in audited] == [
        ("superseded", second.serial_hex)
    ]
