"""Bringing stations up to date: local authorization lists and the user CA.

``push_local_list`` sends a station its pending list update (:mod:`app.owners.local_list`) and
records the answer; ``install_user_ca`` sends ``InstallCertificate`` where a user certificate
was issued for a station that does not hold the user CA yet. An offline station, a timeout or a
station error leaves the work pending: :func:`on_connection` (a sink connection listener) asks
a station that connects for its list version (``GetLocalListVersion``; a diverging version
forces a full update) and sends what is pending. Pushes to one station are serialised.

The user CA is installed as ``CSMSRootCertificate``, the only root type OCPP 1.6 security
(and 2.0.1, besides V2G/MO roots) lets the CSMS install: stations use it to verify the user
certificates presented to them locally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, get_args

from sqlmodel import Session, col, select

from app.db import session_scope
from app.owners import local_list
from app.owners.events import EventHub
from app.owners.tables import LocalListState, Membership, UserCAInstall
from charging.commands import (
    CertificateUse,
    Command,
    CommandResult,
    GetLocalListVersion,
    InstallCertificate,
)
from charging.events import Event, HeartbeatReceived
from charging.outcomes import Decision
from common.clock import utcnow
from pki import CARole, certificate_to_pem

if TYPE_CHECKING:
    from app.edge import PlatformSink
    from app.platform import Platform
    from ocpp_edge.admission import Admission

log = logging.getLogger(__name__)

T = TypeVar("T")
CONNECT_DELAY_SECONDS = 0.5
# What the app and the dashboard show live: every station event but the Heartbeat, which only
# says the station is there (its connection events already say so).
LIVE_EVENTS: tuple[type[Event], ...] = tuple(
    kind for kind in get_args(Event) if kind is not HeartbeatReceived
)


@dataclass
class OwnersRuntime:
    """What the owners' side keeps per platform in a process: the hub, locks, tasks."""

    hub: EventHub = field(default_factory=EventHub)
    locks: dict[tuple[int, str], asyncio.Lock] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def lock(self, serial: str) -> asyncio.Lock:
        key = (id(asyncio.get_running_loop()), serial)
        return self.locks.setdefault(key, asyncio.Lock())


_RUNTIMES: dict[int, OwnersRuntime] = {}


def runtime(platform: Platform) -> OwnersRuntime:
    """The runtime of ``platform`` in this process (made on first use)."""
    return _RUNTIMES.setdefault(id(platform), OwnersRuntime())


def attach(platform: Platform, sink: PlatformSink) -> None:
    """Wire the owners' side to a running edge: live events and sync on (re)connection."""
    state = runtime(platform)
    hub = state.hub

    async def observe(event: Event, decision: Decision) -> None:
        if hub.subscriptions:  # nobody listens: skip turning the event into a message
            await hub.observe(event, decision)

    sink.add_observer(observe, events=LIVE_EVENTS)

    async def listener(what: str, station_id: str, _admission: Admission | None) -> None:
        if what == "connected":
            task = asyncio.create_task(sync_station(platform, station_id, CONNECT_DELAY_SECONDS))
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)

    sink.listeners.append(listener)


async def _db(platform: Platform, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with session_scope(platform.engine) as session:
            return work(session)

    return await asyncio.to_thread(run)


async def _send(platform: Platform, serial: str, command: Command) -> CommandResult | None:
    bus = platform.commands
    if bus is None:
        return None
    try:
        return await bus.send(serial, command)
    except Exception as exc:  # offline, timeout, CALLERROR, not expressible: retry on connect
        log.info("%s to %s not delivered: %s", type(command).__name__, serial, exc)
        return None


async def push_local_list(platform: Platform, serial: str) -> str | None:
    """Send the station's pending list update; the station's status, None if nothing went."""
    async with runtime(platform).lock(serial):
        update = await _db(platform, lambda s: local_list.pending_update(s, serial))
        if update is None:
            return None
        result = await _send(platform, serial, update)
        if result is None:
            return None
        accepted = result.status == local_list.ACCEPTED
        await _db(
            platform,
            lambda s: local_list.confirm(s, serial, update.version, accepted=accepted),
        )
        if not accepted and update.update.value == "Differential":
            retry = await _db(platform, lambda s: local_list.pending_update(s, serial))
            if retry is not None:
                again = await _send(platform, serial, retry)
                if again is not None:
                    ok = again.status == local_list.ACCEPTED
                    await _db(
                        platform,
                        lambda s: local_list.confirm(s, serial, retry.version, accepted=ok),
                    )
                    return again.status
        return result.status


async def push_many(platform: Platform, serials: list[str]) -> None:
    for serial in serials:
        await push_local_list(platform, serial)


def _user_ca_pem(platform: Platform) -> str:
    return certificate_to_pem(platform.ca.authority(CARole.USER).certificate)


async def install_user_ca(platform: Platform, serial: str) -> bool:
    """Install the user CA on the station if it is pending; whether it holds it now."""
    async with runtime(platform).lock(serial):
        row = await _db(platform, lambda s: s.get(UserCAInstall, serial))
        if row is None:
            return False
        if row.installed_at is not None:
            return True
        command = InstallCertificate(CertificateUse.CSMS_ROOT, _user_ca_pem(platform))
        result = await _send(platform, serial, command)
        if result is None or result.status != "Accepted":
            return False

        def installed(session: Session) -> None:
            found = session.get(UserCAInstall, serial)
            if found is not None:
                found.installed_at = utcnow()
                session.add(found)

        await _db(platform, installed)
        return True


def _has_owner_state(session: Session, serial: str) -> bool:
    if session.get(LocalListState, serial) or session.get(UserCAInstall, serial):
        return True
    member = select(col(Membership.user_id)).where(col(Membership.station_serial) == serial)
    return session.exec(member.limit(1)).first() is not None


async def sync_station(platform: Platform, serial: str, delay: float = 0.0) -> None:
    """On (re)connection: reconcile the list version, push the list, install the user CA."""
    await asyncio.sleep(delay)
    try:
        if not await _db(platform, lambda s: _has_owner_state(s, serial)):
            return  # a station no owner ever touched has no list or user CA to keep in step
        answer = await _send(platform, serial, GetLocalListVersion())
        if answer is not None:
            reported = answer.values.get("listVersion")
            version = int(reported) if reported is not None else None
            await _db(platform, lambda s: local_list.forget(s, serial, version))
        await push_local_list(platform, serial)
        await install_user_ca(platform, serial)
    except Exception:
        log.exception("synchronising %s after it connected", serial)
