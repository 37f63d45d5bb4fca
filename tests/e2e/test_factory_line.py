"""The factory line end to end over real sockets: register, enroll with a CSR, the station
boots over mutual TLS with its new certificate, release."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import Session
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from charging.tables import Station
from enrollment import repository
from enrollment.identifiers import MacRange
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import api_client
from tests.factories import bearer, make_client


def stock_line(running: RunningPlatform) -> None:
    with Session(running.platform.engine) as session:
        repository.add_family(
            session,
            name="wallbox-2",
            vendor="Chargeline",
            model="WB2",
            ocpp_version="1.6",
            default_channel="stable",
        )
        repository.add_mac_range(session, MacRange.parse("02:00:00:00:00:00-02:00:00:00:00:FF"))
        session.commit()


def station_key_and_csr(serial: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chargeline"),
                    x509.NameAttribute(NameOID.COMMON_NAME, serial),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def write_station_files(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey, enrolled: dict[str, str]
) -> ssl.SSLContext:
    key_file, chain_file, root_file = (tmp_path / n for n in ("key.pem", "chain.pem", "root.pem"))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    chain_file.write_text(enrolled["chain_pem"])
    root_file.write_text(enrolled["root_pem"])
    context = ssl.create_default_context(cafile=str(root_file))
    context.load_cert_chain(str(chain_file), str(key_file))
    return context


async def boot(url: str, context: ssl.SSLContext) -> str:
    async with connect(url, subprotocols=["ocpp1.6"], ssl=context) as ws:
        boot_call = {"chargePointVendor": "Chargeline", "chargePointModel": "WB2"}
        await ws.send(json.dumps([2, "boot-1", "BootNotification", boot_call]))
        answer = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        assert answer[0] == 3 and answer[1] == "boot-1", answer
        status: str = answer[2]["status"]
        return status


async def test_a_device_goes_from_the_line_to_market(
    running: RunningPlatform, tmp_path: Path
) -> None:
    stock_line(running)
    issued = make_client(running.platform, "manufacturing")
    serial = "CL-E2E-0001"
    async with api_client(running.api_url) as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client_id, issued.client_secret),
        )
        line = bearer(token.json()["access_token"])
        registered = await http.post(
            "/api/v1/devices",
            json={"serial": serial, "family": "wallbox-2", "lot": "E2E"},
            headers=line,
        )
        assert registered.status_code == 201, registered.text
        assert registered.json()["mac"] == "02:00:00:00:00:00"

        key, csr = station_key_and_csr(serial)
        enrolled = await http.post(
            f"/api/v1/devices/{serial}/enroll", json={"csr": csr}, headers=line
        )
        assert enrolled.status_code == 200, enrolled.text
        body = enrolled.json()
        assert body["ocpp"]["wss"].endswith(f"/ocpp/{serial}")

        url = f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/{serial}"
        context = write_station_files(tmp_path, key, body)
        assert await boot(url, context) == "Accepted"
        with Session(running.platform.engine) as session:
            station = session.get(Station, serial)
            assert station is not None and station.security_profile == 3

        # Without its certificate the station would need its password: refused at the handshake.
        bare = ssl.create_default_context(cafile=str(tmp_path / "root.pem"))
        try:
            await boot(url, bare)
        except InvalidStatus as refused:
            assert refused.response.status_code == 401
        else:
            raise AssertionError("a station without credentials was admitted")

        released = await http.post(f"/api/v1/devices/{serial}/release", headers=line)
        assert released.status_code == 200 and released.json()["state"] == "released"
        label = await http.get(f"/api/v1/devices/{serial}/labels/packaging.png", headers=line)
        assert label.status_code == 409
