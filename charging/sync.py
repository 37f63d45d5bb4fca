"""Bringing stations up to date: local authorization lists and the user CA.

:meth:`StationSync.push_local_list` sends a station its pending list update
(:mod:`charging.local_list`) and records the answer; :meth:`StationSync.install_user_ca` sends
``InstallCertificate`` where a user certificate was issued for a station that does not hold the
user CA yet. An offline station, a timeout or a station error leaves the work pending:
:meth:`StationSync.on_connected` asks a station that connects for its list version
(``GetLocalListVersion``; a diverging version forces a full update) and sends what is pending.
Pushes to one station are serialised. The platform keeps one :class:`StationSync` per process
and gives it its ports: the database engine, the command bus (absent in a process that runs no
gateway and reaches none), the user CA and the memberships.

The user CA is installed as ``CSMSRootCertificate``, the only root type OCPP 1.6 security
(and 2.0.1, besides V2G/MO roots) lets the CSMS install: stations use it to verify the user
certificates presented to them locally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from charging import local_list
from charging.commands import (
    CertificateUse,
    Command,
    CommandResult,
    GetLocalListVersion,
    InstallCertificate,
)
from charging.ports import CommandSender, Memberships
from charging.tables import LocalListState
from common.clock import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")
CONNECT_DELAY_SECONDS = 0.5


class StationSync:
    """Keeps stations' local lists and user CA in step; per-station locks and its own tasks."""

    def __init__(
        self,
        engine: Engine,
        memberships: Memberships,
        *,
        commands: Callable[[], CommandSender | None],
        user_ca_pem: Callable[[], str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.memberships = memberships
        self.commands = commands
        self.user_ca_pem = user_ca_pem
        self.clock = clock
        self.locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def lock(self, serial: str) -> asyncio.Lock:
        key = (id(asyncio.get_running_loop()), serial)
        return self.locks.setdefault(key, asyncio.Lock())

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    result = work(session)
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                return result

        return await asyncio.to_thread(run)

    async def _send(self, serial: str, command: Command) -> CommandResult | None:
        bus = self.commands()
        if bus is None:
            return None
        try:
            return await bus.send(serial, command)
        except Exception as exc:  # offline, timeout, CALLERROR, not expressible: retry on connect
            log.info("%s to %s not delivered: %s", type(command).__name__, serial, exc)
            return None

    async def push_local_list(self, serial: str) -> str | None:
        """Send the station's pending list update; the station's status, None if nothing went."""
        async with self.lock(serial):
            update = await self._db(lambda s: local_list.pending_update(s, serial))
            if update is None:
                return None
            result = await self._send(serial, update)
            if result is None:
                return None
            accepted = result.status == local_list.ACCEPTED
            await self._db(
                lambda s: local_list.confirm(s, serial, update.version, accepted=accepted)
            )
            if not accepted and update.update.value == "Differential":
                retry = await self._db(lambda s: local_list.pending_update(s, serial))
                if retry is not None:
                    again = await self._send(serial, retry)
                    if again is not None:
                        ok = again.status == local_list.ACCEPTED
                        await self._db(
                            lambda s: local_list.confirm(s, serial, retry.version, accepted=ok)
                        )
                        return again.status
            return result.status

    async def push_many(self, serials: list[str]) -> None:
        for serial in serials:
            await self.push_local_list(serial)

    async def install_user_ca(self, serial: str) -> bool:
        """Install the user CA on the station if it is pending; whether it holds it now."""
        async with self.lock(serial):
            state = await self._db(lambda s: self.memberships.user_ca_state(s, serial))
            if state is None:
                return False
            if state:
                return True
            command = InstallCertificate(CertificateUse.CSMS_ROOT, self.user_ca_pem())
            result = await self._send(serial, command)
            if result is None or result.status != "Accepted":
                return False
            now = self.clock()
            await self._db(lambda s: self.memberships.user_ca_installed(s, serial, now=now))
            return True

    def _has_owner_state(self, session: Session, serial: str) -> bool:
        if session.get(LocalListState, serial):
            return True
        return self.memberships.has_owner_state(session, serial)

    async def sync_station(self, serial: str, delay: float = 0.0) -> None:
        """On (re)connection: reconcile the list version, push the list, install the user CA."""
        await asyncio.sleep(delay)
        try:
            if not await self._db(lambda s: self._has_owner_state(s, serial)):
                return  # a station no owner ever touched has no list or user CA to keep in step
            answer = await self._send(serial, GetLocalListVersion())
            if answer is not None:
                reported = answer.values.get("listVersion")
                version = int(reported) if reported is not None else None
                await self._db(lambda s: local_list.forget(s, serial, version))
            await self.push_local_list(serial)
            await self.install_user_ca(serial)
        except Exception:
            log.exception("synchronising %s after it connected", serial)

    def on_connected(self, serial: str) -> None:
        """A station connected: bring it up to date in a task of its own, shortly."""
        task = asyncio.create_task(self.sync_station(serial, CONNECT_DELAY_SECONDS))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
