"""Raw OCPP stations for the end-to-end tests: frames, answers to the platform's calls, CSRs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import OPEN_TIMEOUT
from tests.eventually import eventually

PLATFORM_CALL_REPLIES: dict[str, dict[str, Any]] = {
    "GetLocalListVersion": {"listVersion": 0},
    "SendLocalList": {"status": "Accepted"},
}


class RawStation:
    """An OCPP 1.6 station made of raw frames; it answers the platform's calls and keeps the
    local authorization list they build."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[str, asyncio.Future[list[Any]]] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.local_list: dict[str, str] = {}
        self.list_version = 0

    async def run(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message[0] == 2:
                self.received.append((message[2], message[3]))
                answer = self.answer(message[2], message[3])
                await self.ws.send(json.dumps([3, message[1], answer]))
            else:
                self.pending.pop(message[1]).set_result(message)

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "GetLocalListVersion":
            return {"listVersion": self.list_version}
        if action == "SendLocalList":
            if payload["updateType"] == "Full":
                self.local_list = {}
            for entry in payload.get("localAuthorizationList", []):
                if "idTagInfo" in entry:
                    self.local_list[entry["idTag"]] = entry["idTagInfo"]["status"]
                else:
                    self.local_list.pop(entry["idTag"], None)
            self.list_version = payload["listVersion"]
        return {"status": "Accepted"}

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        message_id = str(next(self.ids))
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.pending[message_id] = future
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        answer = await asyncio.wait_for(future, 10)
        assert answer[0] == 3, answer
        result: dict[str, Any] = answer[2]
        return result

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]


class RawStation201(RawStation):
    """The same raw station, answering the platform's calls in 2.0.1 terms."""

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "GetLocalListVersion":
            return {"versionNumber": self.list_version}
        return {"status": "Accepted"}


@asynccontextmanager
async def station(
    running: RunningPlatform,
    serial: str,
    version: str = "ocpp1.6",
    *,
    synced: bool = True,
    firmware: str | None = None,
) -> AsyncIterator[RawStation]:
    """A booted station whose calls from the platform are answered in the background.

    ``synced``: wait for the platform's local-list sync, which only stations with an owner get.
    """
    async with connect(
        f"{running.ocpp_url}/{serial}",
        subprotocols=[Subprotocol(version)],
        additional_headers=basic(serial),
        open_timeout=OPEN_TIMEOUT,
    ) as ws:
        raw = RawStation(ws) if version == "ocpp1.6" else RawStation201(ws)
        reader = asyncio.create_task(raw.run())
        boot: dict[str, Any]
        if version == "ocpp1.6":
            boot = {"chargePointVendor": "ACME", "chargePointModel": "W1"}
            if firmware:
                boot["firmwareVersion"] = firmware
        else:
            boot = {"chargingStation": {"vendorName": "ACME", "model": "W1"}, "reason": "PowerUp"}
            if firmware:
                boot["chargingStation"]["firmwareVersion"] = firmware
        assert (await raw.call("BootNotification", boot))["status"] == "Accepted"
        if synced:
            await eventually(lambda: bool(raw.calls("GetLocalListVersion")))
        try:
            yield raw
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


def csr_for(station_id: str, key: ec.EllipticCurvePrivateKey) -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chargeline"),
                    x509.NameAttribute(NameOID.COMMON_NAME, station_id),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()
