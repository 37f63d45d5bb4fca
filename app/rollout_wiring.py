"""The rollout service's ports wired to the platform: the command bus as a ``StationLink``,
the CA and family roots as a ``RootSource``, and a plain ``LocationIssuer`` until the download
service provides signed ones."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.platform import Platform
from charging.commands import Command
from firmware.service.ports import ERROR, NOT_SUPPORTED, OFFLINE, TIMEOUT, Answer, Protocol_
from firmware.tables import FamilySigningRootRow, FirmwareImageRow
from ocpp_edge.errors import OcppEdgeError, UnsupportedError
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline

_NOT_SUPPORTED_CODES = frozenset({"NotSupported", "NotImplemented"})


class PlatformLink:
    """``platform.commands`` (the gateway in this process, or Redis to the edge holding the
    station) with the station's failures as answers."""

    def __init__(self, platform: Platform, *, timeout: float | None = None) -> None:
        self.platform = platform
        self.timeout = timeout

    async def send(self, station_id: str, command: Command) -> Answer:
        bus = self.platform.commands
        if bus is None:
            return Answer(OFFLINE, detail="no edge reachable from this process")
        try:
            result = await bus.send(station_id, command, timeout=self.timeout)
        except StationOffline:
            return Answer(OFFLINE)
        except CommandTimeout as exc:
            return Answer(TIMEOUT, detail=str(exc))
        except StationCallError as exc:
            if exc.code in _NOT_SUPPORTED_CODES:
                return Answer(NOT_SUPPORTED, detail=str(exc))
            return Answer(ERROR, detail=str(exc))
        except (UnsupportedError, ValueError) as exc:  # the version cannot express it
            return Answer(NOT_SUPPORTED, detail=str(exc))
        except OcppEdgeError as exc:
            return Answer(ERROR, detail=str(exc))
        return Answer(result.status, dict(result.payload))


class PlatformRoots:
    """A family's own signing root where it names one, else the platform's manufacturer root."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def manufacturer_root(self, family_id: int) -> str:
        with Session(self.platform.engine) as session:
            own = session.get(FamilySigningRootRow, family_id)
            if own is not None:
                return own.certificate
        return self.platform.ca.manufacturer_root_pem()


class PlainLocations:
    """``{api}/api/v1/firmware/images/{id}/download``: where no signed-URL issuer is wired."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

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
        del station_id, target_id, protocol, valid_from, valid_until  # a plain URL ignores them
        return f"{self.base_url}/api/v1/firmware/images/{image.id}/download"
