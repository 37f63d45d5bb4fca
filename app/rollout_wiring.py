"""The rollout service's ports wired to the platform: the command bus as a ``StationLink``,
the CA and family roots as a ``RootSource``; ``platform.downloads`` is the ``LocationIssuer``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.platform import Platform
from charging.commands import Command
from firmware import catalog
from firmware.log_uploads import derive_upload_key, upload_location
from firmware.service.ports import ERROR, NOT_SUPPORTED, OFFLINE, TIMEOUT, Answer
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
            return catalog.signing_root_pem(session, family_id)


class PlatformLogLocations:
    """Upload locations on this platform's API (``/logs/{token}/``), keyed apart from downloads."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.key = derive_upload_key(platform.settings.secret_key.get_secret_value())

    def log_location(
        self, *, station_id: str, request_id: int, target_id: int | None, now: datetime
    ) -> str:
        return upload_location(
            self.key,
            self.platform.downloads.public_url,
            station_id=station_id,
            request_id=request_id,
            target_id=target_id,
            now=now,
        )
