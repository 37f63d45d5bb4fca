"""Process roles: the OCPP edge (gateway + charging core) and the API, alone or together."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from aioftp import Server as FtpServer
from redis.asyncio import Redis
from sqlalchemy.engine import Engine

from app import live, station_log
from app.audit import AuditLog
from app.ca import CertificateAuthority
from app.ca.revocation_watch import RevocationWatch
from app.command_bus import EdgeRelay, RedisCommandBus
from app.edge import LocalCommandBus, PlatformGatekeeper, PlatformSink, station_passwords
from app.ftp_downloads import ftp_server
from app.main import create_app
from app.platform import Platform
from app.presence import NodePresence
from app.rollout_wiring import PlatformLink, PlatformLogLocations, PlatformRoots
from app.tls import gateway_ssl_context
from charging.async_core import AsyncChargingCore
from charging.commands import Command, CommandResult
from charging.events import CertificateRequested, Event
from charging.outcomes import Decision
from charging.service import ChargingCore
from common.clock import utcnow
from enrollment.csr_requests import CsrRequester
from enrollment.field import StationCertificateService
from enrollment.ports import Clock, CommandSender
from enrollment.profile_upgrade import gateway_url
from firmware.report_capture import CAPTURED_EVENTS, ReportRecorder
from firmware.service.ports import LocationIssuer
from firmware.service.worker import RolloutWorker
from ocpp_edge.server import Gateway, GatewayOptions

log = logging.getLogger(__name__)


class CoreAdapter:
    """The async charging core as the sink's port, with the platform's clock and node id."""

    def __init__(self, core: AsyncChargingCore, node_id: str | None = None) -> None:
        self.core = core
        self.node_id = node_id

    async def handle(self, event: Event) -> Decision:
        return await self.core.handle(event, now=utcnow())

    async def connected(self, station_id: str, version: str) -> None:
        await self.core.mark_online(station_id, version, now=utcnow(), node=self.node_id)

    async def disconnected(self, station_id: str) -> None:
        await self.core.mark_offline(station_id, now=utcnow(), node=self.node_id)


class PortUnavailable(Exception):
    """A port cannot be listened on; the message names it and the flag that changes it."""

    def __init__(self, host: str, port: int, flag: str, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            what = f"port {port} on {host} is already in use (another Chargeline running?)"
        else:
            what = f"cannot listen on {host}:{port} ({error.strerror or error})"
        super().__init__(f"{what}; choose another port with {flag} PORT")
        self.port = port
        self.flag = flag


@contextlib.contextmanager
def _naming_the_port(host: str, port: int, flag: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise PortUnavailable(host, port, flag, exc) from None


def bind_socket(host: str, port: int, flag: str) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        PortUnavailable: the port is taken (or the address cannot be bound).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with _naming_the_port(host, port, flag):
        return socket.create_server((host, port), family=family)


@dataclass
class Edge:
    gateway: Gateway
    core: AsyncChargingCore
    sink: PlatformSink
    gatekeeper: PlatformGatekeeper
    certificates: StationCertificateService
    ocpp_port: int
    ocpp_tls_port: int
    csr_requests: CsrRequester | None = None
    node_id: str = ""


RENEWAL_CHECK_S = 6 * 3600
RENEW_WITHIN = timedelta(days=30)


def field_enrollment(
    ca: CertificateAuthority,
    engine: Engine,
    send: CommandSender,
    *,
    clock: Clock = utcnow,
    csms_url: str | None = None,
) -> StationCertificateService:
    """Field enrollment over the platform's CA and audit log; ``csms_url`` (where 2.x stations
    go for profile 3) by default from the CA's settings."""
    if csms_url is None:
        settings = ca.settings
        csms_url = gateway_url(
            public_url=settings.public_url,
            ocpp_host=settings.ocpp_host,
            ocpp_tls_port=settings.ocpp_tls_port,
        )
    return StationCertificateService(
        ca, engine, send, audit=AuditLog(engine), clock=clock, csms_url=csms_url
    )


@contextlib.asynccontextmanager
async def running_edge(platform: Platform) -> AsyncIterator[Edge]:
    """Start the gateway (plain and TLS ports) with the charging core and the CA behind it."""
    settings = platform.settings
    await asyncio.to_thread(platform.ca.initialize, now=utcnow())
    passwords = station_passwords()
    core = AsyncChargingCore(
        ChargingCore(
            platform.engine,
            passwords=passwords,
            heartbeat_interval=settings.heartbeat_interval,
            data_transfers=platform.data_transfers,
        )
    )
    await core.start()
    node_id = uuid.uuid4().hex
    gateway_ref: list[Gateway] = []

    async def send(station_id: str, command: Command) -> CommandResult:
        return await gateway_ref[0].send(station_id, command)

    certificates = field_enrollment(platform.ca, platform.engine, send)
    sink = PlatformSink(
        CoreAdapter(core, node_id), certificate_requests=certificates.handle_request
    )
    live.attach(platform, sink)
    # Field enrollment: profile-2 stations without a certificate are asked for a CSR at once.
    csr_requests = CsrRequester(certificates, renew_within=RENEW_WITHIN)
    sink.listeners.append(csr_requests.on_connection)
    sink.add_observer(csr_requests.on_event, events=[CertificateRequested])
    # Rollouts: what stations say about firmware and health, for workers in any process.
    sink.add_observer(ReportRecorder(platform.engine).on_event, events=CAPTURED_EVENTS)
    gatekeeper = PlatformGatekeeper(
        platform.engine,
        passwords,
        auto_register=settings.auto_register_stations,
        certificates=platform.ca,
    )
    gateway = Gateway(
        gatekeeper,
        sink,
        GatewayOptions(
            call_timeout=settings.command_timeout, max_frame_bytes=settings.max_ocpp_frame_bytes
        ),
    )
    gateway_ref.append(gateway)
    station_log.attach(gateway, sink)
    relay: EdgeRelay | None = None
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    revocations = RevocationWatch(platform.ca, gateway, redis=redis)
    presence = NodePresence(core.core, node_id, redis, ttl=settings.edge_node_ttl)
    background: list[asyncio.Task[None]] = []
    try:
        await presence.start()
        await revocations.start()
        if redis is not None:
            relay = EdgeRelay(redis, gateway, node_id)
            await relay.start()
            sink.listeners.append(relay.on_connection)
        with _naming_the_port(settings.ocpp_host, settings.ocpp_port, "--ocpp-port"):
            plain = await gateway.listen(settings.ocpp_host, settings.ocpp_port)
        context = await asyncio.to_thread(gateway_ssl_context, platform.ca)
        with _naming_the_port(settings.ocpp_host, settings.ocpp_tls_port, "--ocpp-tls-port"):
            tls = await gateway.listen(settings.ocpp_host, settings.ocpp_tls_port, context)
        if certificates.csms_url is None and settings.ocpp_tls_port == 0:
            # An ephemeral TLS port is only known now: tell 2.x stations where profile 3 is.
            certificates.csms_url = f"wss://{settings.ocpp_host}:{Gateway.port_of(tls)}/ocpp"
        platform.commands = LocalCommandBus(gateway)
        background.append(asyncio.create_task(_renew_periodically(certificates, gateway)))
        yield Edge(
            gateway,
            core,
            sink,
            gatekeeper,
            certificates,
            Gateway.port_of(plain),
            Gateway.port_of(tls),
            csr_requests,
            node_id,
        )
    finally:
        platform.commands = None
        await revocations.aclose()
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await csr_requests.aclose()
        await certificates.drain()
        await gateway.close()
        if relay is not None:
            await relay.aclose()
        await presence.aclose()
        if redis is not None:
            await redis.aclose()
        await core.aclose()


async def _renew_periodically(certificates: StationCertificateService, gateway: Gateway) -> None:
    """Ask connected stations whose certificate ends within 30 days for a new CSR."""
    while True:
        try:
            await certificates.request_renewals(
                within=RENEW_WITHIN, is_connected=gateway.is_connected
            )
        except Exception:
            log.exception("certificate renewal round failed")
        await asyncio.sleep(RENEWAL_CHECK_S)


@contextlib.asynccontextmanager
async def running_worker(
    platform: Platform, *, locations: LocationIssuer | None = None, holder: str | None = None
) -> AsyncIterator[RolloutWorker]:
    """Run the rollout worker until the block ends.

    It reaches stations through ``platform.commands``: the gateway of this process when an
    edge runs here, else Redis to the edge node holding the station.
    """
    settings = platform.settings
    redis = None
    if platform.commands is None and settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        platform.commands = RedisCommandBus(redis, default_timeout=settings.command_timeout)
    worker = RolloutWorker(
        platform.engine,
        PlatformLink(platform),
        locations or platform.downloads,
        PlatformRoots(platform),
        holder=holder,
        logs=PlatformLogLocations(platform),
        interval=settings.rollout_interval,
        claim_ttl=timedelta(seconds=settings.rollout_claim_seconds),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await task
        if redis is not None:
            platform.commands = None
            await redis.aclose()


@contextlib.asynccontextmanager
async def running_api(platform: Platform) -> AsyncIterator[uvicorn.Server]:
    config = uvicorn.Config(
        create_app(platform=platform),
        host=platform.settings.api_host,
        port=platform.settings.api_port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    listening = bind_socket(platform.settings.api_host, platform.settings.api_port, "--api-port")
    redis = None
    if platform.commands is None and platform.settings.redis_url:
        redis = Redis.from_url(platform.settings.redis_url)
        platform.commands = RedisCommandBus(
            redis, default_timeout=platform.settings.command_timeout
        )
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the API server stopped during start-up")
            await asyncio.sleep(0.02)
        if not platform.settings.public_url and platform.settings.api_port == 0:
            # An ephemeral port is only known now: download links must name it.
            host = platform.settings.api_host
            platform.downloads.public_url = f"http://{host}:{bound_port(server)}"
        yield server
    finally:
        server.should_exit = True
        await task
        if redis is not None:
            platform.commands = None
            await redis.aclose()
        listening.close()


@contextlib.asynccontextmanager
async def running_ftp(platform: Platform) -> AsyncIterator[FtpServer]:
    """The FTP firmware server (per-download logins) on ``ftp_host:ftp_port``; an ephemeral
    port is told to the download links."""
    settings = platform.settings
    server = ftp_server(platform)
    with _naming_the_port(settings.ftp_host, settings.ftp_port, "--ftp-port"):
        await server.start(settings.ftp_host, settings.ftp_port)
    platform.downloads.ftp_port = server.address[1]
    cleanup = asyncio.create_task(_forget_expired_logins(platform))
    try:
        yield server
    finally:
        cleanup.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cleanup
        await server.close()


FTP_LOGIN_CLEANUP_S = 3600
FTP_LOGIN_KEPT = timedelta(days=1)  # an expired login is still named in refusals for a day


async def _forget_expired_logins(platform: Platform) -> None:
    while True:
        try:
            await asyncio.to_thread(
                platform.downloads.forget_expired_logins, utcnow() - FTP_LOGIN_KEPT
            )
        except Exception:
            log.exception("removing expired FTP logins failed")
        await asyncio.sleep(FTP_LOGIN_CLEANUP_S)


def bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port
