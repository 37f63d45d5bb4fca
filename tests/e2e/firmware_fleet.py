"""Rollout test helpers: a fleet of field stations in the database, images, and stations made
of raw OCPP frames that take a firmware update (download, install, reboot, boot on the new
version) or fail it the way real ones do."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import Session, col, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app import audit
from app.edge import station_passwords
from app.platform import Platform
from charging import registry
from charging.tables import Station
from common.clock import utcnow
from enrollment import repository
from enrollment.identifiers import MacRange
from enrollment.tables import DeviceRow, HardwareFamilyRow, MacRangeRow
from firmware.download_links import DownloadLinks
from firmware.downloads import LinkForged
from firmware.service.ports import Protocol_
from firmware.tables import FirmwareImageRow
from tests.e2e.conftest import STATION_PASSWORD, basic


def add_family(platform: Platform, name: str, ocpp_version: str = "2.0.1") -> int:
    with Session(platform.engine) as session:
        family = repository.add_family(
            session,
            name=name,
            vendor="ACME",
            model=name.upper(),
            ocpp_version=ocpp_version,
            default_channel="stable",
        )
        if session.exec(select(MacRangeRow)).first() is None:
            repository.add_mac_range(session, MacRange.parse("02:00:00:00:00:00-02:00:00:0F:FF:FF"))
        session.commit()
        assert family.id is not None
        return family.id


_macs = itertools.count(0x020000000000)


def add_field_stations(
    platform: Platform,
    family: str,
    station_ids: list[str],
    *,
    version: str = "1.0.0",
    lot: str = "LOT-1",
    time_zone: str | None = None,
) -> None:
    """Stations the platform knows (password ``STATION_PASSWORD``) that are enrolled devices."""
    with Session(platform.engine) as session:
        family_row = session.exec(
            select(HardwareFamilyRow).where(col(HardwareFamilyRow.name) == family)
        ).one()
        mac_range = session.exec(select(MacRangeRow)).one()
        passwords = station_passwords()
        for station_id in station_ids:
            registry.add_station(
                session, station_id, STATION_PASSWORD, passwords=passwords, now=utcnow()
            )
            station = session.get(Station, station_id)
            assert station is not None
            station.firmware_version = version
            station.time_zone = time_zone
            session.add(station)
            session.add(
                DeviceRow(
                    serial=station_id,
                    family_id=family_row.id or 0,
                    lot=lot,
                    mac=next(_macs),
                    mac_range_id=mac_range.id or 0,
                    state="enrolled",
                    device_code_hash="0" * 64,
                    packaging_code_hash="1" * 64,
                )
            )
        audit.record(session, audit.Actor("test"), "station.add", object_id=family)
        session.commit()


def add_image(platform: Platform, family_id: int, version: str, *, signed: bool = True) -> int:
    """An image row as the catalog stores it (the test stations do not download it)."""
    platform.ca.initialize(now=utcnow())
    with Session(platform.engine) as session:
        image = FirmwareImageRow(
            family_id=family_id,
            version=version,
            filename=f"fw-{version}.bin",
            size=1024,
            sha256="a" * 64,
            md5="b" * 32,
            storage_key=f"images/{version}",
            signature="c2lnbmF0dXJl" if signed else None,
            signing_certificate=platform.ca.manufacturer_root_pem() if signed else None,
            signature_algorithm="rsa-pss-sha256" if signed else None,
        )
        session.add(image)
        session.commit()
        assert image.id is not None
        IMAGE_VERSIONS[str(image.id)] = version
        del LINKS[:]
        LINKS.append(platform.downloads)
        return image.id


class FakeDownloads:
    """The delivery port as a trivial issuer: ``https://127.0.0.1/fw/<image id>``."""

    def __init__(self) -> None:
        self.issued: list[tuple[str, int | None, datetime, datetime]] = []

    def location(
        self,
        *,
        image: FirmwareImageRow,
        station_id: str,
        target_id: int | None,
        protocol: Protocol_,
        valid_from: datetime,
        valid_until: datetime,
    ) -> str:
        self.issued.append((station_id, target_id, valid_from, valid_until))
        return f"{protocol}://127.0.0.1/fw/{image.id}?station={station_id}"


@dataclass
class Behaviour:
    """How a station takes an update: ``ok``, ``invalid_signature``, ``install_fails``,
    ``old_version`` (reboots into the old one) or ``silent`` (says nothing)."""

    mode: str = "ok"
    session_active: bool = False  # a charging session runs until the platform stops it
    hold: asyncio.Event | None = None  # accept updates, but report nothing until it is set


@dataclass
class UpdatingStation:
    """A station of raw frames: boots, answers the platform's calls, takes updates."""

    url: str
    station_id: str
    version: str
    ocpp: str = "ocpp2.0.1"
    behaviour: Behaviour = field(default_factory=Behaviour)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    boots: int = 0
    ws: ClientConnection | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    _reboot: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]

    async def life(self) -> None:
        """Connect, boot, serve; after an install reconnect and boot again, until cancelled."""
        while True:
            async with connect(
                f"{self.url}/{self.station_id}",
                subprotocols=[Subprotocol(self.ocpp)],
                additional_headers=basic(self.station_id),
            ) as ws:
                self.ws = ws
                self._reboot.clear()
                reader = asyncio.create_task(self._read(ws))
                try:
                    await self._boot()
                    await self._reboot.wait()
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await reader

    async def _boot(self) -> None:
        if self.ocpp == "ocpp1.6":
            boot: dict[str, Any] = {
                "chargePointVendor": "ACME",
                "chargePointModel": "W1",
                "firmwareVersion": self.version,
            }
        else:
            boot = {
                "chargingStation": {
                    "vendorName": "ACME",
                    "model": "W1",
                    "firmwareVersion": self.version,
                },
                "reason": "FirmwareUpdate" if self.boots else "PowerUp",
            }
        await self.call("BootNotification", boot)
        self.boots += 1
        if self.behaviour.session_active:
            await self._start_session()

    async def _start_session(self) -> None:
        if self.ocpp == "ocpp1.6":
            await self.call(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": _now()},
            )
        else:
            await self.call(
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": _now(),
                    "triggerReason": "Authorized",
                    "seqNo": 0,
                    "transactionInfo": {"transactionId": f"TX-{self.station_id}"},
                    "evse": {"id": 1, "connectorId": 1},
                    "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
                },
            )

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message[0] == 2:
                self.received.append((message[2], message[3]))
                answer = self.answer(message[2], message[3])
                await ws.send(json.dumps([3, message[1], answer]))
            elif message[1] in self._pending:
                self._pending.pop(message[1]).set_result(message)

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        assert self.ws is not None
        message_id = f"{self.station_id}-{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        return await asyncio.wait_for(future, 10)

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "GetInstalledCertificateIds":
            return {"status": "NotFound"}
        if action == "InstallCertificate":
            self.roots.append(payload["certificate"])
            return {"status": "Accepted"}
        if action in ("UpdateFirmware", "SignedUpdateFirmware"):
            self._spawn(self._update(payload))
            return {"status": "Accepted"}
        if action in ("RequestStopTransaction", "RemoteStopTransaction"):
            self._spawn(self._stop_session())
            return {"status": "Accepted"}
        if action == "TriggerMessage":
            return {"status": "Accepted"}
        if action == "GetLocalListVersion":
            return {"versionNumber": 0} if self.ocpp != "ocpp1.6" else {"listVersion": 0}
        return {"status": "Accepted"}

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_session(self) -> None:
        self.behaviour.session_active = False
        if self.ocpp == "ocpp1.6":
            return
        await self.call(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": _now(),
                "triggerReason": "RemoteStop",
                "seqNo": 1,
                "transactionInfo": {
                    "transactionId": f"TX-{self.station_id}",
                    "stoppedReason": "Remote",
                },
            },
        )

    async def _status(self, status: str, request_id: int | None) -> None:
        name = "FirmwareStatusNotification"
        payload: dict[str, Any] = {"status": status}
        if self.ocpp == "ocpp1.6" and request_id is not None:
            name = "SignedFirmwareStatusNotification"
        if request_id is not None:
            payload["requestId"] = request_id
        await self.call(name, payload)

    async def _update(self, payload: dict[str, Any]) -> None:
        mode = self.behaviour.mode
        if mode == "silent":
            return
        request_id = payload.get("requestId")
        if self.behaviour.hold is not None:
            await self.behaviour.hold.wait()
        await self._status("Downloading", request_id)
        await self._status("Downloaded", request_id)
        if mode == "invalid_signature":
            await self._status("InvalidSignature", request_id)
            return
        if self.ocpp != "ocpp1.6" or request_id is not None:
            await self._status("SignatureVerified", request_id)
        await self._status("Installing", request_id)
        if mode == "install_fails":
            await self._status("InstallationFailed", request_id)
            return
        await self._status("Installed", request_id)
        if mode != "old_version":
            self.version = _version_of(payload)
        self._reboot.set()


def _version_of(payload: dict[str, Any]) -> str:
    location = payload.get("firmware", {}).get("location") or payload.get("location", "")
    found = re.search(r"/(?:fw|images)/(\d+)(?:\?|$)", location)
    if found:
        return IMAGE_VERSIONS.get(found.group(1), "unknown")
    token = re.search(r"/fw/([A-Za-z0-9_-]+)$", location)
    for links in LINKS if token else []:  # a real signed link, as a worker process issues them
        with contextlib.suppress(LinkForged):
            grant = links.decode(token.group(1) if token else "")
            return IMAGE_VERSIONS.get(str(grant.image_id), "unknown")
    return "unknown"


IMAGE_VERSIONS: dict[str, str] = {}
"""Image id (as text) -> version: what a test station installs when it downloads that image."""

LINKS: list[DownloadLinks] = []
"""The download links of the platforms images were added to (a worker process with the same
secret issues links they read)."""


def _now() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


@contextlib.asynccontextmanager
async def living(stations: list[UpdatingStation]) -> AsyncIterator[list[UpdatingStation]]:
    """Run every station's life until the block ends."""
    tasks = [asyncio.create_task(s.life()) for s in stations]
    try:
        yield stations
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
        for station in stations:
            for work in list(station._tasks):
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, TimeoutError):
                    await work


@dataclass
class Admin:
    http: httpx.AsyncClient
    headers: dict[str, str]

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", headers=self.headers)


def policy(family: str, sizes: tuple[int, ...] = (1, 2), **extra: Any) -> dict[str, Any]:
    """A policy JSON: fixed waves of ``sizes`` over the family, plus ``extra`` fields."""
    waves = {"kind": "fixed", "sizes": list(sizes)}
    return {"selection": {"family": family}, "waves": waves, **extra}
