"""Station events on the server terminal: connected, booted, disconnected, refused and why.

``attach(gateway, sink)`` wraps the gateway's gatekeeper (refusals) and listens on the sink
(connections, BootNotification). Passwords and certificates never reach the log: a refusal names
the station id, the HTTP status, the gatekeeper's reason and the peer address.
"""

from __future__ import annotations

import logging

from app.edge import PlatformSink
from app.logs import log_event
from charging.events import Event, StationBooted
from charging.outcomes import BootDecision, Decision
from ocpp_edge.admission import Admission, HandshakeRequest
from ocpp_edge.server import Gatekeeper, Gateway

log = logging.getLogger("app.stations")


class LoggedGatekeeper:
    """The gatekeeper it wraps, plus one ``station.refused`` line per refused handshake."""

    def __init__(self, inner: Gatekeeper) -> None:
        self.inner = inner

    async def admit(self, request: HandshakeRequest) -> Admission:
        admission = await self.inner.admit(request)
        if not admission.accepted:
            log_event(
                log,
                "station.refused",
                logging.WARNING,
                station_id=request.station_id,
                status=admission.status,
                reason=admission.reason,
                remote=request.remote,
                tls=request.tls,
            )
        return admission


def attach(gateway: Gateway, sink: PlatformSink) -> None:
    """Log the station events of ``gateway`` and ``sink`` from now on."""
    gateway.gatekeeper = LoggedGatekeeper(gateway.gatekeeper)

    async def on_connection(what: str, station_id: str, admission: Admission | None) -> None:
        if what == "connected":
            session = gateway.sessions.get(station_id)
            remote = session.connection.remote_address if session is not None else None
            log_event(
                log,
                "station.connected",
                station_id=station_id,
                protocol=session.protocol.version if session is not None else None,
                profile=int(admission.profile) if admission is not None else None,
                pending=admission.pending if admission is not None else None,
                remote=str(remote[0]) if remote else None,
            )
        else:
            log_event(log, "station.disconnected", station_id=station_id)

    async def on_boot(event: Event, decision: Decision) -> None:
        assert isinstance(event, StationBooted)
        log_event(
            log,
            "station.booted",
            station_id=event.station_id,
            vendor=event.vendor,
            model=event.model,
            firmware=event.firmware_version,
            reason=event.reason,
            status=decision.status if isinstance(decision, BootDecision) else None,
        )

    sink.listeners.append(on_connection)
    sink.add_observer(on_boot, events=[StationBooted])
