"""The edge's side of revocation: close every session whose certificate is no longer valid.

Three inputs, one rule. Revocations committed in this process arrive through the CA's
listeners; those of other processes (an api process, the CLI) over Redis pub/sub where
``CHARGELINE_REDIS_URL`` is set; and a database poll every ``POLL_INTERVAL`` seconds catches
whatever a push missed, including a session admitted in the instant before its certificate was
revoked. The rule: a session presenting a revoked certificate is closed (1008); a session that
presented no certificate (profile 1 or 2) is closed when a certificate of its station is
revoked for any reason but superseded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cryptography import x509
from redis.asyncio import Redis

from app.ca import CertificateAuthority
from app.ca.revocation import REVOCATIONS_CHANNEL, Revocation
from ocpp_edge.server import Gateway
from ocpp_edge.session import StationSession
from pki import RevocationReason

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
CLOSE_REASON = "certificate revoked"


def presented_serial(session: StationSession) -> int | None:
    """The serial number of the client certificate the session's TLS peer presented."""
    transport = session.connection.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).serial_number


class RevocationWatch:
    """Keeps the gateway's sessions in step with the revocations in the database."""

    def __init__(
        self,
        ca: CertificateAuthority,
        gateway: Gateway,
        *,
        redis: Redis | None = None,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.ca = ca
        self.gateway = gateway
        self.redis = redis
        self.interval = interval
        self._serials: dict[str, tuple[StationSession, int | None]] = {}
        self._known: set[int] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribed = asyncio.Event()
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.ca.listeners.append(self._from_any_thread)
        await self.poll()  # the baseline: what was revoked before this edge started
        self._tasks.append(asyncio.create_task(self._poll_forever()))
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen(self.redis)))
            await self._subscribed.wait()

    async def aclose(self) -> None:
        with contextlib.suppress(ValueError):
            self.ca.listeners.remove(self._from_any_thread)
        self._stop.set()  # the poll ends its round: no database work is cut in half
        for task in self._tasks[1:]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def _from_any_thread(self, revocation: Revocation) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self.enforce(revocation)))

    def _serial_of(self, station_id: str, session: StationSession) -> int | None:
        cached = self._serials.get(station_id)
        if cached is not None and cached[0] is session:
            return cached[1]
        serial = presented_serial(session)
        self._serials[station_id] = (session, serial)
        return serial

    async def enforce(self, revocation: Revocation) -> bool:
        """Close the station's session if ``revocation`` ends it; True when it was closed."""
        if revocation.station_id is None:
            return False
        session = self.gateway.sessions.get(revocation.station_id)
        if session is None:
            return False
        serial = self._serial_of(revocation.station_id, session)
        if serial == revocation.serial or (
            serial is None and revocation.reason is not RevocationReason.SUPERSEDED
        ):
            await session.close(1008, CLOSE_REASON)
            return True
        return False

    async def poll(self) -> None:
        """Compare with the database: act on new revocations, close revoked sessions."""
        snapshot = await asyncio.to_thread(self.ca.ledger.revoked_snapshot)
        known, self._known = self._known, set(snapshot)
        if known is not None:
            for new in snapshot.keys() - known:
                await self.enforce(snapshot[new])
        for station_id, session in list(self.gateway.sessions.items()):
            serial = self._serial_of(station_id, session)
            if serial is not None and serial in snapshot:
                await session.close(1008, CLOSE_REASON)
        for station_id in self._serials.keys() - self.gateway.sessions.keys():
            del self._serials[station_id]

    async def _poll_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
                return
            try:
                await self.poll()
            except Exception:
                log.exception("the revocation poll failed")

    async def _listen(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(REVOCATIONS_CHANNEL)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            revocation = Revocation.from_json(message["data"])
                        except (ValueError, KeyError, TypeError):
                            log.warning("dropped a malformed revocation message")
                            continue
                        await self.enforce(revocation)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: the poll carries on; subscribe again
                self._subscribed.set()
                log.warning("the revocation channel failed; subscribing again", exc_info=True)
                await asyncio.sleep(self.interval)
