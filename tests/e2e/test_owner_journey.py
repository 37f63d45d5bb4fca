"""An owner's whole journey over real sockets: sign-up by mail, pairing, a guest charging by
card and by app, live events, and the guest cut off everywhere once removed."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import Session, select
from websockets.asyncio.client import connect

from app.ca.tables import IssuedCertificateRow
from app.platform import build_platform
from app.roles import bound_port, running_api, running_edge
from common.clock import utcnow
from tests.conftest import make_settings
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.e2e.owners import login
from tests.e2e.stations import RawStation
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user
from tests.owner_helpers import Inbox, make_device, smtp_port, start_smtp, text_part

SERIAL = "SN-E2E-0001"


def stamp(*, minutes: int = 0) -> str:
    """A station's timestamp, ``minutes`` from now (sessions count from when members joined)."""
    return (utcnow() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def mailed_token(inbox: Inbox, to: str, path: str) -> str:
    pattern = re.compile(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)")

    def newest() -> str | None:
        for message in reversed([m for m in inbox.messages if m["To"] == to]):
            found = pattern.search(text_part(message))
            if found:
                return found.group(1)
        return None

    return await eventually(newest, message=f"no {path} mail to {to}")


@pytest.fixture
async def journey(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[RunningPlatform, Inbox]]:
    controller, inbox = start_smtp()
    settings = make_settings(
        tmp_path,
        database_url,
        ocpp_port=0,
        ocpp_tls_port=0,
        command_timeout=5.0,
        heartbeat_interval=60,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port(controller),
    )
    platform = build_platform(settings)
    platform.ca.initialize(now=utcnow())
    try:
        async with running_edge(platform) as edge, running_api(platform) as api:
            yield (
                RunningPlatform(
                    platform,
                    edge,
                    f"http://127.0.0.1:{bound_port(api)}",
                    f"ws://127.0.0.1:{edge.ocpp_port}/ocpp",
                ),
                inbox,
            )
    finally:
        controller.stop()
        platform.close()


def csr_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "guest phone")]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


async def test_an_owner_shares_a_station_with_a_guest_and_cuts_them_off(
    journey: tuple[RunningPlatform, Inbox],
) -> None:
    running, inbox = journey
    labels = make_device(running.platform, SERIAL)
    running.add_station(SERIAL)
    guest_user = make_user(running.platform, "guest@example.com")
    async with api_client(running.api_url) as http:
        # the owner signs up and verifies the address from the mail
        signup = await http.post(
            "/api/v1/app/signup",
            json={"email": "owner@example.com", "password": "owner password 1"},
        )
        assert signup.status_code == 202
        token = await mailed_token(inbox, "owner@example.com", "/app/verify-email")
        assert (
            await http.post("/api/v1/app/verify-email", json={"token": token})
        ).status_code == 200
        owner = await login(http, "owner@example.com", "owner password 1")
        paired = await http.post(
            "/api/v1/app/pairings",
            json={"device_label": labels.device, "packaging_label": labels.packaging},
            headers=owner,
        )
        assert paired.status_code == 201, paired.text

        # the owner invites the guest, who accepts from the mailed link
        invited = await http.post(
            f"/api/v1/app/stations/{SERIAL}/invitations",
            json={"email": "guest@example.com", "role": "guest"},
            headers=owner,
        )
        assert invited.status_code == 201, invited.text
        invitation = await mailed_token(inbox, "guest@example.com", "/app/invitations/accept")
        guest = await login(http, "guest@example.com", PASSWORD)
        accepted = await http.post(
            "/api/v1/app/invitations/accept", json={"token": invitation}, headers=guest
        )
        assert accepted.status_code == 200 and accepted.json()["role"] == "guest"

        async with connect(
            f"{running.ocpp_url}/{SERIAL}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(SERIAL),
        ) as ws:
            station = RawStation(ws)
            reader = asyncio.create_task(station.run())
            boot = await station.call(
                "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "W1"}
            )
            assert boot["status"] == "Accepted"
            await eventually(lambda: bool(station.calls("GetLocalListVersion")))

            # live events: the guest listens on the WebSocket
            events_url = running.api_url.replace("http", "ws") + "/api/v1/events"
            guest_token = guest["Authorization"][7:]
            async with connect(f"{events_url}?token={guest_token}") as live:
                # the owner registers the guest's card; the station receives it
                card = await http.post(
                    "/api/v1/app/cards",
                    json={"id_token": "GUESTCARD1", "holder_user_id": guest_user.id},
                    headers=owner,
                )
                assert card.status_code == 201, card.text
                assert card.json()["stations"] == [SERIAL]
                await eventually(lambda: station.local_list.get("GUESTCARD1") == "Accepted")

                # the guest charges with the card
                authorized = await station.call("Authorize", {"idTag": "GUESTCARD1"})
                assert authorized["idTagInfo"]["status"] == "Accepted"
                event = json.loads(await asyncio.wait_for(live.recv(), 5))
                assert event["station_id"] == SERIAL and event["type"] == "AuthorizationRequested"
                started = await station.call(
                    "StartTransaction",
                    {
                        "connectorId": 1,
                        "idTag": "GUESTCARD1",
                        "meterStart": 1000,
                        "timestamp": stamp(),
                    },
                )
                assert started["idTagInfo"]["status"] == "Accepted"
                await station.call(
                    "StopTransaction",
                    {
                        "transactionId": started["transactionId"],
                        "meterStop": 4000,
                        "timestamp": stamp(minutes=60),
                        "reason": "EVDisconnected",
                    },
                )

            # the guest gets a user certificate; the station receives the user CA
            issued = await http.post(
                "/api/v1/app/certificates", json={"csr": csr_pem()}, headers=guest
            )
            assert issued.status_code == 201, issued.text
            assert issued.json()["stations"] == [SERIAL]
            assert station.calls("InstallCertificate")[0]["certificateType"] == (
                "CentralSystemRootCertificate"
            )

            # and charges from the app: the station is asked and answers
            remote = await http.post(f"/api/v1/app/stations/{SERIAL}/charging", headers=guest)
            assert remote.status_code == 200, remote.text
            assert remote.json()["status"] == "Accepted"
            app_tag = station.calls("RemoteStartTransaction")[0]["idTag"]
            app_started = await station.call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": app_tag,
                    "meterStart": 4000,
                    "timestamp": stamp(),
                },
            )
            assert app_started["idTagInfo"]["status"] == "Accepted"
            history = (await http.get("/api/v1/app/sessions", headers=guest)).json()
            assert history["total"] == 2 and all(item["own"] for item in history["items"])
            card_session = [i for i in history["items"] if i["state"] == "ended"][0]
            detail = await http.get(f"/api/v1/app/sessions/{card_session['id']}", headers=guest)
            assert detail.json()["energy_wh"] == 3000

            # the owner removes the guest: cut off everywhere
            removed = await http.delete(
                f"/api/v1/app/stations/{SERIAL}/members/{guest_user.id}", headers=owner
            )
            assert removed.status_code == 204
            assert "GUESTCARD1" not in station.local_list
            refused = await station.call("Authorize", {"idTag": "GUESTCARD1"})
            assert refused["idTagInfo"]["status"] == "Invalid"
            with Session(running.platform.engine) as session:
                certificate = session.exec(
                    select(IssuedCertificateRow).where(
                        IssuedCertificateRow.serial_hex == issued.json()["serial"]
                    )
                ).one()
            assert certificate.status == "revoked"
            assert (
                await http.get(f"/api/v1/app/stations/{SERIAL}", headers=guest)
            ).status_code == 404
            again = await http.post(f"/api/v1/app/stations/{SERIAL}/charging", headers=guest)
            assert again.status_code == 404
            # ... but keeps the history of what they charged while they were a member
            kept = (await http.get("/api/v1/app/sessions", headers=guest)).json()
            assert sorted(item["id"] for item in kept["items"]) == sorted(
                item["id"] for item in history["items"]
            )
            reader.cancel()
