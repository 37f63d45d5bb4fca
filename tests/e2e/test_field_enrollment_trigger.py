"""The platform asks a profile-2 station for its CSR at once, over real TLS, and asks again with
growing waits until the CSR comes (1.6 ExtendedTriggerMessage, 2.0.1/2.1 TriggerMessage)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.audit import Actor, AuditEntry
from app.cli import main as cli_main
from app.identity.service import create_client
from common.clock import utcnow
from enrollment.csr_requests import CsrRequestPolicy
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.e2e.stations import csr_for
from tests.eventually import eventually
from tests.factories import admin_headers_http

TRIGGER = {
    "1.6": ("ExtendedTriggerMessage", "SignChargePointCertificate"),
    "2.0.1": ("TriggerMessage", "SignChargingStationCertificate"),
    "2.1": ("TriggerMessage", "SignChargingStationCertificate"),
}
SIDE = {
    "GetLocalListVersion": {"listVersion": 0, "versionNumber": 0},
    "SendLocalList": {"status": "Accepted"},
}


@asynccontextmanager
async def tls_station(
    running: RunningPlatform, station_id: str, version: str, tmp_path: Path
) -> AsyncIterator[ClientConnection]:
    root = tmp_path / "root.pem"
    root.write_text(running.platform.ca.root_pem())
    async with connect(
        f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/{station_id}",
        subprotocols=[Subprotocol(f"ocpp{version}")],
        ssl=ssl.create_default_context(cafile=str(root)),
        additional_headers=basic(station_id),
    ) as ws:
        yield ws


async def next_call(ws: ClientConnection, action: str, reply: dict[str, Any] | None) -> list[Any]:
    """The platform's next ``action`` CALL (side calls answered); answered with ``reply``
    unless None (the station stays silent)."""
    while True:
        frame = json.loads(await ws.recv())
        if frame[0] != 2:
            continue
        if frame[2] == action:
            if reply is not None:
                await ws.send(json.dumps([3, frame[1], reply]))
            return frame  # type: ignore[no-any-return]
        await ws.send(json.dumps([3, frame[1], SIDE.get(frame[2], {})]))


def audits(running: RunningPlatform, action: str) -> list[AuditEntry]:
    with Session(running.platform.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


@pytest.fixture
def quick(running: RunningPlatform) -> RunningPlatform:
    assert running.edge.csr_requests is not None
    running.edge.csr_requests.policy = CsrRequestPolicy(attempts=3, first_wait_s=0.3, factor=2)
    return running


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_a_profile_2_station_without_certificate_is_asked_at_once_and_again_with_backoff(
    quick: RunningPlatform, version: str, tmp_path: Path
) -> None:
    quick.add_station("CP-P2", profile=2)
    action, requested = TRIGGER[version]
    loop = asyncio.get_running_loop()
    async with tls_station(quick, "CP-P2", version, tmp_path) as ws:
        connected = loop.time()
        first = await asyncio.wait_for(next_call(ws, action, None), 5)  # silent: no answer
        asked = [loop.time()]
        assert first[3] == {"requestedMessage": requested}
        await asyncio.wait_for(next_call(ws, action, {"status": "Accepted"}), 5)
        asked.append(loop.time())  # accepted, but no CSR follows: asked once more
        await asyncio.wait_for(next_call(ws, action, {"status": "Rejected"}), 5)
        asked.append(loop.time())
        assert asked[0] - connected < 1.0  # at once, not at the next renewal round
        # The first wait includes the 1 s command timeout of the silent attempt.
        assert asked[1] - asked[0] >= 0.3 and asked[2] - asked[1] >= 0.6
        await eventually(lambda: len(audits(quick, "station.csr_request_abandoned")) == 1)
        statuses = [e.detail for e in audits(quick, "station.csr_requested")]
        assert len(statuses) == 3 and "Rejected" in statuses[2] and "Accepted" in statuses[1]
        requester = quick.edge.csr_requests
        assert requester is not None
        await eventually(lambda: not requester.asking("CP-P2"))


async def test_the_csr_ends_the_requests_and_is_enrolled(
    quick: RunningPlatform, tmp_path: Path
) -> None:
    quick.add_station("CP-P2", profile=2)
    requester = quick.edge.csr_requests
    assert requester is not None
    async with tls_station(quick, "CP-P2", "1.6", tmp_path) as ws:
        await asyncio.wait_for(next_call(ws, "ExtendedTriggerMessage", {"status": "Accepted"}), 5)
        csr = csr_for("CP-P2", ec.generate_private_key(ec.SECP256R1()))
        await ws.send(json.dumps([2, "s1", "SignCertificate", {"csr": csr}]))
        signed = await asyncio.wait_for(
            next_call(ws, "CertificateSigned", {"status": "Rejected"}), 5
        )
        assert "BEGIN CERTIFICATE" in signed[3]["certificateChain"]
        assert not requester.asking("CP-P2")
        await quick.edge.certificates.drain()
    assert requester.attempts["CP-P2"] == 1


async def test_a_disconnect_cancels_the_requests_and_a_certified_station_is_not_asked(
    quick: RunningPlatform, tmp_path: Path
) -> None:
    quick.add_station("CP-P2", profile=2)
    requester = quick.edge.csr_requests
    assert requester is not None
    async with tls_station(quick, "CP-P2", "2.0.1", tmp_path) as ws:
        await asyncio.wait_for(next_call(ws, "TriggerMessage", {"status": "Accepted"}), 5)
        assert requester.asking("CP-P2")
    await eventually(lambda: not requester.asking("CP-P2"))
    assert len(audits(quick, "station.csr_requested")) == 1

    # A station on profile 1 (plain ws) is never asked; nor one that holds a certificate.
    quick.add_station("CP-P1")
    async with connect(
        f"{quick.ocpp_url}/CP-P1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-P1")
    ) as ws:
        await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[:2] == [3, "h"]
        assert not requester.asking("CP-P1")

    quick.add_station("CP-CERT", profile=2)
    with Session(quick.platform.engine) as session:
        quick.platform.ca.issue_station_certificate(
            session,
            csr_for("CP-CERT", ec.generate_private_key(ec.SECP256R1())),
            station_id="CP-CERT",
            actor=Actor("test"),
            now=utcnow(),
        )
        session.commit()
    async with tls_station(quick, "CP-CERT", "1.6", tmp_path) as ws:
        await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[:2] == [3, "h"]
        await eventually(lambda: quick.edge.gateway.is_connected("CP-CERT"))
        assert not requester.asking("CP-CERT")
    assert len(audits(quick, "station.csr_requested")) == 1


def once(running: RunningPlatform) -> None:
    """One automatic request, then a long wait: the admin's request is the next CALL."""
    assert running.edge.csr_requests is not None
    running.edge.csr_requests.policy = CsrRequestPolicy(attempts=1, first_wait_s=60)


async def _answer_one(ws: ClientConnection, action: str, seen: list[list[Any]]) -> None:
    seen.append(await next_call(ws, action, {"status": "Accepted"}))


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("1.6", "SignChargePointCertificate"),
        ("1.6", "SignChargingStationCertificate"),
        ("2.0.1", "SignChargingStationCertificate"),
    ],
)
async def test_an_admin_asks_for_a_csr_through_the_trigger_command(
    quick: RunningPlatform, tmp_path: Path, version: str, kind: str
) -> None:
    once(quick)
    quick.add_station("CP-P2", profile=2)
    action, requested = TRIGGER[version]
    async with (
        api_client(quick.api_url) as http,
        tls_station(quick, "CP-P2", version, tmp_path) as ws,
    ):
        headers = await admin_headers_http(quick.platform, http)
        await asyncio.wait_for(next_call(ws, action, {"status": "Accepted"}), 5)  # automatic
        seen: list[list[Any]] = []
        station = asyncio.create_task(_answer_one(ws, action, seen))
        answer = await http.post(
            "/api/v1/stations/CP-P2/commands/trigger", json={"message": kind}, headers=headers
        )
        await asyncio.wait_for(station, 5)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["command"], answer.json()["status"]) == (
        "TriggerCertificateSigning",
        "Accepted",
    )
    assert seen[0][3] == {"requestedMessage": requested}


async def test_a_certificate_kind_1_6_cannot_express_is_refused(
    quick: RunningPlatform, tmp_path: Path
) -> None:
    quick.add_station("CP-P2", profile=2)
    async with (
        api_client(quick.api_url) as http,
        tls_station(quick, "CP-P2", "1.6", tmp_path) as ws,
    ):
        headers = await admin_headers_http(quick.platform, http)
        await asyncio.wait_for(next_call(ws, "ExtendedTriggerMessage", {"status": "Accepted"}), 5)
        answer = await http.post(
            "/api/v1/stations/CP-P2/commands/trigger",
            json={"message": "SignV2GCertificate"},
            headers=headers,
        )
        unknown = await http.post(
            "/api/v1/stations/CP-P2/commands/trigger",
            json={"message": "SignSomething"},
            headers=headers,
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("command-not-expressible")
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("validation-error")


async def test_the_cli_asks_a_station_for_a_csr_through_the_running_platform(
    quick: RunningPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    once(quick)
    quick.add_station("CP-P2", profile=2)
    with Session(quick.platform.engine) as session:
        client = create_client(session, "ops", ["admin"], actor=Actor("test"))
        session.commit()
    argv = [
        "stations",
        "request-certificate",
        "CP-P2",
        "--data-dir",
        str(tmp_path / "cli"),
        "--database-url",
        quick.platform.settings.resolved_database_url,
        "--api-url",
        quick.api_url,
        f"--client-id={client.client_id}",
        f"--client-secret={client.client_secret}",  # a secret may start with "-"
    ]
    async with tls_station(quick, "CP-P2", "2.0.1", tmp_path) as ws:
        await asyncio.wait_for(next_call(ws, "TriggerMessage", {"status": "Accepted"}), 5)
        seen: list[list[Any]] = []
        station = asyncio.create_task(_answer_one(ws, "TriggerMessage", seen))
        code = await asyncio.to_thread(cli_main, argv)
        await asyncio.wait_for(station, 5)
    assert code == 0
    assert seen[0][3] == {"requestedMessage": "SignChargingStationCertificate"}
    assert capsys.readouterr().out == (
        "asked CP-P2 for a CSR (SignChargingStationCertificate): the station answered Accepted\n"
    )
    offline = await asyncio.to_thread(cli_main, argv)
    assert offline == 2
    assert "HTTP 409" in capsys.readouterr().err
    no_client = await asyncio.to_thread(cli_main, argv[:-2])
    assert no_client == 2
    assert "an admin OAuth2 client is needed" in capsys.readouterr().err
