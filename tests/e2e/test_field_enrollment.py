"""Field enrollment over OCPP alone: profile 2 with a password -> SignCertificate ->
CertificateSigned -> profile 3 with the station's own certificate; revocation cuts it off."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from charging.tables import Station
from pki.hierarchy import CARole
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.e2e.stations import csr_for
from tests.factories import admin_headers_http


async def answer_calls(
    ws: ClientConnection, answers: dict[str, dict[str, Any]], seen: list[list[Any]], count: int
) -> None:
    """Play the station: answer the platform's calls until ``count`` of ``answers`` came
    (local-list synchronisation the platform runs on connect is answered on the side)."""
    side = {"GetLocalListVersion": {"listVersion": 0}, "SendLocalList": {"status": "Accepted"}}
    while len(seen) < count:
        frame = json.loads(await ws.recv())
        assert frame[0] == 2, frame
        if frame[2] in side:
            await ws.send(json.dumps([3, frame[1], side[frame[2]]]))
            continue
        seen.append(frame)
        await ws.send(json.dumps([3, frame[1], answers[frame[2]]]))


async def answer_until_closed(ws: ClientConnection) -> None:
    """Answer whatever the platform asks (local list sync) until it closes the connection."""
    replies = {"GetLocalListVersion": {"listVersion": 0}, "SendLocalList": {"status": "Accepted"}}
    while True:
        frame = json.loads(await ws.recv())
        if frame[0] == 2:
            await ws.send(json.dumps([3, frame[1], replies.get(frame[2], {})]))


async def test_a_station_moves_from_profile_2_to_3_over_ocpp_and_revocation_cuts_it_off(
    running: RunningPlatform, tmp_path: Path
) -> None:
    running.add_station("CP-FIELD", profile=2)
    ca = running.platform.ca
    root = tmp_path / "root.pem"
    root.write_text(ca.root_pem())
    trust = ssl.create_default_context(cafile=str(root))
    wss = f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/CP-FIELD"

    plain = f"{running.ocpp_url}/CP-FIELD"
    with pytest.raises(InvalidStatus) as downgrade:
        async with connect(plain, subprotocols=["ocpp1.6"], additional_headers=basic("CP-FIELD")):
            pass
    assert downgrade.value.response.status_code == 401

    key = ec.generate_private_key(ec.SECP256R1())
    seen: list[list[Any]] = []
    async with connect(
        wss, subprotocols=["ocpp1.6"], ssl=trust, additional_headers=basic("CP-FIELD")
    ) as ws:
        # A profile-2 station without a certificate is asked for a CSR at once.
        trigger = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert trigger[0] == 2
        assert trigger[2:] == [
            "ExtendedTriggerMessage",
            {"requestedMessage": "SignChargePointCertificate"},
        ]
        await ws.send(json.dumps([3, trigger[1], {"status": "Accepted"}]))
        await ws.send(json.dumps([2, "s1", "SignCertificate", {"csr": csr_for("CP-FIELD", key)}]))
        assert json.loads(await ws.recv()) == [3, "s1", {"status": "Accepted"}]
        answers = {
            "CertificateSigned": {"status": "Accepted"},
            "GetInstalledCertificateIds": {"status": "NotFound"},
            "InstallCertificate": {"status": "Accepted"},
            "ChangeConfiguration": {"status": "Accepted"},
        }
        await asyncio.wait_for(answer_calls(ws, answers, seen, 4), 10)
        await running.edge.certificates.drain()
    actions = [frame[2] for frame in seen]
    assert actions == [
        "CertificateSigned",
        "GetInstalledCertificateIds",
        "InstallCertificate",
        "ChangeConfiguration",
    ]
    assert seen[3][3] == {"key": "SecurityProfile", "value": "3"}
    chain = seen[0][3]["certificateChain"]
    with Session(running.platform.engine) as session:
        station = session.get(Station, "CP-FIELD")
        assert station is not None and station.security_profile == 3

    chain_file, key_file = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain_file.write_text(chain)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    leaf, intermediate = tmp_path / "leaf.pem", tmp_path / "intermediate.pem"
    blocks = chain.split("-----END CERTIFICATE-----")
    leaf.write_text(blocks[0] + "-----END CERTIFICATE-----\n")
    intermediate.write_text(ca.chain_pem(CARole.STATION))
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(root), "-untrusted", str(intermediate), str(leaf)],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0 and verified.stdout.strip().endswith(": OK"), verified

    with pytest.raises(InvalidStatus) as no_password:
        async with connect(
            wss, subprotocols=["ocpp1.6"], ssl=trust, additional_headers=basic("CP-FIELD")
        ):
            pass
    assert no_password.value.response.status_code == 401
    assert b"passwords are not accepted" in no_password.value.response.body

    mutual = ssl.create_default_context(cafile=str(root))
    mutual.load_cert_chain(str(chain_file), str(key_file))
    async with connect(wss, subprotocols=["ocpp1.6"], ssl=mutual) as ws:
        await ws.send(
            json.dumps(
                [
                    2,
                    "b1",
                    "BootNotification",
                    {"chargePointVendor": "ACME", "chargePointModel": "X1"},
                ]
            )
        )
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
        async with api_client(running.api_url) as http:
            headers = await admin_headers_http(running.platform, http)
            listed = await http.get(
                "/api/v1/certificates", params={"station_id": "CP-FIELD"}, headers=headers
            )
            serial = listed.json()["items"][0]["serial"]
            revoked = await http.post(
                f"/api/v1/certificates/{serial}/revoke",
                json={"reason": "keyCompromise"},
                headers=headers,
            )
            assert revoked.status_code == 200, revoked.text
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(answer_until_closed(ws), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    with pytest.raises(InvalidStatus) as refused:
        async with connect(wss, subprotocols=["ocpp1.6"], ssl=mutual):
            pass
    assert refused.value.response.status_code == 401
    assert b"revoked" in refused.value.response.body
