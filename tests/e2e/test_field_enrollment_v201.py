"""Field enrollment of an OCPP 2.0.1 station: profile 2 with a password -> SignCertificate ->
CertificateSigned -> SetNetworkProfile / SetVariables(NetworkConfigurationPriority) / Reset
(2.0.1 A05, B09) -> the station restarts onto the new profile and connects with its
certificate at profile 3, to the URL the platform gave it."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from app.audit import AuditEntry
from charging.tables import Station
from tests.e2e.conftest import RunningPlatform, basic, started_platform
from tests.e2e.stations import csr_for

STATION = "CP-FIELD-201"
OCPP201 = [Subprotocol("ocpp2.0.1")]
SIDE = {"GetLocalListVersion": {"versionNumber": 0}, "SendLocalList": {"status": "Accepted"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    """The platform on a known TLS port, so that the URL it hands to stations is reachable."""
    async with started_platform(
        tmp_path, database_url, ocpp_tls_port=free_port(), command_timeout=2.0
    ) as started:
        yield started


def answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What a 2.0.1 station that accepts everything answers, with its priority at slot 0."""
    if action == "GetVariables":
        return {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "0",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload["getVariableData"]
            ]
        }
    if action == "SetVariables":
        return {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload["setVariableData"]
            ]
        }
    if action == "GetInstalledCertificateIds":
        return {"status": "NotFound"}
    return {"status": "Accepted"}


async def play_station_until_reset(ws: ClientConnection, seen: list[list[Any]]) -> None:
    """Answer the platform's calls until it asks for the Reset (local-list sync on the side)."""
    while not seen or seen[-1][2] != "Reset":
        frame = json.loads(await ws.recv())
        assert frame[0] == 2, frame
        if frame[2] in SIDE:
            await ws.send(json.dumps([3, frame[1], SIDE[frame[2]]]))
            continue
        seen.append(frame)
        await ws.send(json.dumps([3, frame[1], answer(frame[2], frame[3])]))


async def answer_csr_trigger(ws: ClientConnection) -> None:
    """A profile-2 station without a certificate is asked for a CSR at once (2.0.1 F06)."""
    trigger = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert trigger[0] == 2
    assert trigger[2:] == ["TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}]
    await ws.send(json.dumps([3, trigger[1], {"status": "Accepted"}]))


def audited(running: RunningPlatform, action: str) -> list[tuple[str, dict[str, Any]]]:
    with Session(running.platform.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(row.outcome, json.loads(row.detail)) for row in rows]


async def test_a_201_station_moves_from_profile_2_to_3_through_a_new_network_profile(
    running: RunningPlatform, tmp_path: Path
) -> None:
    running.add_station(STATION, profile=2)
    root = tmp_path / "root.pem"
    root.write_text(running.platform.ca.root_pem())
    trust = ssl.create_default_context(cafile=str(root))
    tls_port = running.edge.ocpp_tls_port
    key = ec.generate_private_key(ec.SECP256R1())
    seen: list[list[Any]] = []

    async with connect(
        f"wss://127.0.0.1:{tls_port}/ocpp/{STATION}",
        subprotocols=OCPP201,
        ssl=trust,
        additional_headers=basic(STATION),
    ) as ws:
        request = {"csr": csr_for(STATION, key), "certificateType": "ChargingStationCertificate"}
        await answer_csr_trigger(ws)
        await ws.send(json.dumps([2, "s1", "SignCertificate", request]))
        assert json.loads(await ws.recv()) == [3, "s1", {"status": "Accepted"}]
        await asyncio.wait_for(play_station_until_reset(ws, seen), 10)
        await running.edge.certificates.drain()

    assert [frame[2] for frame in seen] == [
        "CertificateSigned",
        "GetInstalledCertificateIds",
        "InstallCertificate",
        "GetVariables",
        "SetNetworkProfile",
        "SetVariables",
        "Reset",
    ]
    url = f"wss://127.0.0.1:{tls_port}/ocpp"
    assert seen[4][3] == {
        "configurationSlot": 1,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": url,
            "messageTimeout": 30,
            "securityProfile": 3,
            "ocppInterface": "Wired0",
        },
    }
    assert seen[5][3] == {
        "setVariableData": [
            {
                "attributeValue": "1,0",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"},
            }
        ]
    }
    assert seen[6][3] == {"type": "OnIdle"}
    with Session(running.platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.security_profile == 3
    assert audited(running, "station.security_profile_raised") == [("success", {"profile": 3})]

    with pytest.raises(InvalidStatus) as with_password:
        async with connect(
            f"{url}/{STATION}",
            subprotocols=OCPP201,
            ssl=trust,
            additional_headers=basic(STATION),
        ):
            pass
    assert with_password.value.response.status_code == 401
    assert b"passwords are not accepted" in with_password.value.response.body

    chain_file, key_file = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain_file.write_text(seen[0][3]["certificateChain"])
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    mutual = ssl.create_default_context(cafile=str(root))
    mutual.load_cert_chain(str(chain_file), str(key_file))
    async with connect(f"{url}/{STATION}", subprotocols=OCPP201, ssl=mutual) as ws:
        boot = {
            "chargingStation": {"model": "X1", "vendorName": "ACME", "serialNumber": STATION},
            "reason": "RemoteReset",
        }
        await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        booted = json.loads(await ws.recv())
        assert booted[:2] == [3, "b1"] and booted[2]["status"] == "Accepted"


async def test_a_201_station_rejecting_the_network_profile_stays_at_profile_2(
    running: RunningPlatform, tmp_path: Path
) -> None:
    running.add_station(STATION, profile=2)
    root = tmp_path / "root.pem"
    root.write_text(running.platform.ca.root_pem())
    trust = ssl.create_default_context(cafile=str(root))
    url = f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/{STATION}"
    key = ec.generate_private_key(ec.SECP256R1())
    seen: list[str] = []

    async with connect(
        url, subprotocols=OCPP201, ssl=trust, additional_headers=basic(STATION)
    ) as ws:
        request = {"csr": csr_for(STATION, key), "certificateType": "ChargingStationCertificate"}
        await answer_csr_trigger(ws)
        await ws.send(json.dumps([2, "s1", "SignCertificate", request]))
        assert json.loads(await ws.recv()) == [3, "s1", {"status": "Accepted"}]
        while "SetNetworkProfile" not in seen:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame[2] in SIDE:
                await ws.send(json.dumps([3, frame[1], SIDE[frame[2]]]))
                continue
            seen.append(frame[2])
            reply = answer(frame[2], frame[3])
            if frame[2] == "SetNetworkProfile":
                reply = {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidURL"}}
            await ws.send(json.dumps([3, frame[1], reply]))
        await running.edge.certificates.drain()

    assert seen[-2:] == ["GetVariables", "SetNetworkProfile"]
    with Session(running.platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.security_profile == 2
    assert audited(running, "station.security_profile_raised") == [
        ("failure", {"step": "SetNetworkProfile", "status": "Rejected"})
    ]
    async with connect(
        url, subprotocols=OCPP201, ssl=trust, additional_headers=basic(STATION)
    ) as ws:
        boot = {"chargingStation": {"model": "X1", "vendorName": "ACME"}, "reason": "PowerUp"}
        await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
