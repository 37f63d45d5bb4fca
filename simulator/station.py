"""One simulated charging station over a real WebSocket: boot, heartbeat, sessions, commands.

The frames go through ``simulator.link`` (one CALL at a time, schema-checked both ways); the
station answers CSMS CALLs through ``simulator.answers`` and carries out what they ask. Time in
the meter is simulated time; waits in wall-clock time are divided by ``speed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.exceptions import ConnectionClosed

from simulator import transfers
from simulator.answers import (
    Effect,
    Reboot,
    SendMessage,
    SetAvailability,
    StartSession,
    StopSession,
    answer,
)
from simulator.firmware import FirmwareFault, FirmwareUpdate
from simulator.link import Link, ServerCallError, StationFailure, open_connection, station_url
from simulator.logs import log_status_message, upload_log
from simulator.maintenance import RaiseSecurityEvent, StartFirmwareUpdate, StartLogUpload
from simulator.messages import FIRMWARE, ChargingSession, messages_for, timestamp
from simulator.meter import Meter
from simulator.profiles import Limit
from simulator.state import StationState
from simulator.stats import FleetStats, StationReport


@dataclass(frozen=True, slots=True)
class StationOptions:
    """How one station behaves; times in simulated seconds unless they say wall."""

    sessions: int = 1
    session_seconds: float = 300.0
    meter_interval: float = 60.0
    speed: float = 1.0
    evses: int = 1
    id_tag: str | None = None
    call_timeout: float = 30.0
    open_timeout: float = 10.0
    deadline: float | None = None  # loop time (wall) at which the station stops
    firmware_version: str = FIRMWARE
    firmware_faults: frozenset[FirmwareFault] = frozenset()
    v16_firmware: str = "whitepaper"  # or "plain" (see StationState)
    manufacturer_roots: tuple[str, ...] = ()  # PEM roots installed at the factory
    download_ssl: ssl.SSLContext | None = None  # trust for HTTPS downloads (default: as wss)
    ignore_limits: bool = False  # draw full power whatever the charging profiles say


@dataclass(slots=True)
class _Running:
    session: ChargingSession
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class SimulatedStation:
    def __init__(
        self,
        station_id: str,
        url: str,
        version: str,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        options: StationOptions | None = None,
        stats: FleetStats | None = None,
    ) -> None:
        self.station_id = station_id
        self.url = station_url(url, station_id)
        self.version = version
        self.password = password
        self.ssl_context = ssl_context
        self.options = options or StationOptions()
        self.stats = stats or FleetStats()
        self.report = StationReport(station_id)
        self.state = StationState(
            version, evses=self.options.evses, v16_firmware=self.options.v16_firmware
        )
        self.state.firmware.version = self.options.firmware_version
        for pem in self.options.manufacturer_roots:
            self.state.store.install("ManufacturerRootCertificate", pem, datetime.now(UTC))
        self.messages = messages_for(version)
        self.meters = {e: Meter(f"{station_id}/{e}") for e in range(1, self.options.evses + 1)}
        self.link = Link(
            version,
            self.stats,
            call_timeout=self.options.call_timeout,
            answer=lambda action, payload: answer(action, payload, self.state),
            on_effect=lambda effect: self._spawn(self._apply(effect)),
        )
        self._running: dict[int, _Running] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reboot: Reboot | None = None
        self._rebooted = asyncio.Event()
        self._booted = asyncio.Event()
        self._boot_reason = "PowerUp"
        self._firmware_task: asyncio.Task[None] | None = None
        self._log_task: asyncio.Task[None] | None = None

    # -- the life of the station ----------------------------------------------------------------

    async def run(self) -> StationReport:
        """Connect, run the sessions, answer commands; reconnect after a Reset."""
        try:
            while await self._connect_once():
                pass
            if self.report.sessions_refused:
                self.report.refused = True
                self.report.error = (
                    f"the CSMS refused {self.report.sessions_refused} of "
                    f"{self.report.local_sessions} sessions ({self.report.refusal})"
                )
            else:
                self.report.ok = True
        except StationFailure as exc:
            self.report.refused = exc.refused
            self.report.error = str(exc)
            self.stats.errors += 1
        except asyncio.CancelledError:
            self.report.error = self.report.error or "cancelled"
            raise
        finally:
            for task in (self._firmware_task, self._log_task):
                if task is not None:
                    task.cancel()
        return self.report

    async def _connect_once(self) -> bool:
        """One connection; True when the station must reconnect (it was reset)."""
        ws = await open_connection(
            self.url,
            self.version,
            self.station_id,
            password=self.password,
            ssl_context=self.ssl_context,
            open_timeout=self.options.open_timeout,
        )
        self.link.attach(ws)
        self._reboot = None
        self._rebooted.clear()
        self._booted.clear()
        self.stats.connected += 1
        reader = asyncio.create_task(self.link.read(ws))
        behaviour = asyncio.create_task(self._behave())
        try:
            done, _ = await asyncio.wait(
                {reader, behaviour, asyncio.create_task(self._rebooted.wait())},
                return_when=asyncio.FIRST_COMPLETED,
            )
            if behaviour in done:
                behaviour.result()
                return False
            if self._reboot is not None:
                self._boot_reason = self._reboot.reason
                return True
            close = f"code {ws.close_code} {ws.close_reason}".strip()
            raise StationFailure(f"the server closed the connection ({close})")
        finally:
            self.stats.connected -= 1
            for task in (behaviour, reader, *self._tasks):
                task.cancel()
            self.link.cancel_pending()
            await ws.close()
            await asyncio.gather(behaviour, reader, *self._tasks, return_exceptions=True)
            self._tasks.clear()
            self._running.clear()
            self.state.sessions.clear()

    async def _behave(self) -> None:
        await self._boot()
        if self.version == "1.6":
            await self.call(*self.messages.status(0, "Available"))
        for evse in self.meters:
            await self.call(*self.messages.status(evse, "Available"))
        self._spawn(self._heartbeats())
        while self.report.local_sessions < self.options.sessions and not self._expired():
            free = self.state.free_evse(1)
            if free is None:
                await asyncio.sleep(0.05)
                continue
            self.report.local_sessions += 1
            await self._session(StartSession(free, self._tag()), remote=False)
        if self.options.deadline is not None:
            await asyncio.sleep(max(0.0, self.options.deadline - self._now()))
        elif self.options.sessions == 0:
            await asyncio.Event().wait()  # run until cancelled
        for running in list(self._running.values()):
            running.stop.set()
            await running.done.wait()

    async def _boot(self) -> None:
        for _ in range(10):
            boot = self.messages.boot(
                self.station_id, self._boot_reason, self.state.firmware.version
            )
            reply = await self.call(*boot)
            if reply["status"] == "Accepted":
                if reply["interval"] > 0:
                    self.state.set_heartbeat_interval(reply["interval"])
                self.stats.booted += 1
                self._booted.set()
                return
            if reply["status"] == "Rejected":
                raise StationFailure("BootNotification was rejected", refused=True)
            await self._sleep(max(reply["interval"], 1))
        raise StationFailure("BootNotification stayed pending", refused=True)

    async def _heartbeats(self) -> None:
        while True:
            await self._sleep(max(self.state.heartbeat_interval, 1))
            await self.call("Heartbeat", {})

    # -- charging sessions -------------------------------------------------------------------------

    def _tag(self) -> str:
        return self.options.id_tag or f"TAG-{self.station_id}"[:20]

    async def _session(self, start: StartSession, *, remote: bool) -> None:
        session = ChargingSession(
            start.evse_id,
            start.id_tag,
            str(uuid.uuid4()),  # 2.0.1 transactionId: unique across runs and restarts (E01.FR.16)
            remote_start_id=start.remote_start_id,
        )
        running = _Running(session)
        self._running[start.evse_id] = running
        self.state.sessions[start.evse_id] = session.local_ref  # reserved until started
        try:
            await self._charge(running, remote)
        finally:
            running.done.set()
            self._running.pop(start.evse_id, None)
            self.state.sessions.pop(start.evse_id, None)
            self.state.started.pop(start.evse_id, None)
            self.state.profiles.transaction_ended(start.evse_id)

    async def _charge(self, running: _Running, remote: bool) -> None:
        session, meter = running.session, self.meters[running.session.evse_id]
        meter.plug_in()
        await self.call(*self.messages.status(session.evse_id, "Preparing"))
        if not remote or self.state.authorize_remote_starts:
            reply = await self.call(*self.messages.authorize(session.id_tag))
            status = reply.get("idTagInfo", reply.get("idTokenInfo", {})).get("status")
            if status != "Accepted":
                self._refused(f"Authorize of {session.id_tag}: {status}", remote)
                await self.call(*self.messages.status(session.evse_id, "Available"))
                return
        reading = meter.read()
        session.meter_start_wh = reading.energy_wh
        reply = await self.call(*self.messages.started(session, reading, remote))
        accepted = self.messages.started_reply(session, reply) == "Accepted"
        assert session.transaction_ref is not None
        self.state.sessions[session.evse_id] = session.transaction_ref
        self.state.started[session.evse_id] = self.state.clock()
        self.stats.sessions_started += 1
        self.report.sessions_started += 1
        if not accepted:
            self._refused(f"start of {session.id_tag}: not accepted", remote)
            session.stop_reason = "DeAuthorized"
            running.stop.set()
        else:
            await self.call(*self.messages.status(session.evse_id, "Charging"))
        elapsed = 0.0
        while elapsed < self.options.session_seconds and not running.stop.is_set():
            step = min(self.options.meter_interval, self.options.session_seconds - elapsed)
            wait = step / self.options.speed
            if self.options.deadline is not None:
                wait = min(wait, max(0.0, self.options.deadline - self._now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.stop.wait(), wait)
            if running.stop.is_set() or self._expired():
                break
            elapsed += step
            reading = meter.advance(step, self.limit(session.evse_id))
            await self.call(*self.messages.meter(session, reading))
            self.stats.meter_values += 1
        await self.call(*self.messages.ended(session, meter.read(self.limit(session.evse_id))))
        self.stats.sessions_finished += 1
        self.report.sessions_finished += 1
        self.report.energy_wh += meter.register_wh - session.meter_start_wh
        if self.version == "1.6":
            await self.call(*self.messages.status(session.evse_id, "Finishing"))
        await self.call(*self.messages.status(session.evse_id, "Available"))

    def limit(self, evse: int) -> Limit | None:
        """What the EVSE may draw now by its charging profiles (None: its full power); the
        station maximum is shared by the EVSEs charging."""
        if self.options.ignore_limits:
            return None
        state = self.state
        sharing = len(state.started)
        return state.profiles.limit_at(
            evse, state.clock(), state.transaction(evse), sharing=sharing
        )

    def _refused(self, why: str, remote: bool) -> None:
        self.stats.sessions_refused += 1
        if not remote:  # the station's own sessions: a remote start's tag is the CSMS's choice
            self.report.sessions_refused += 1
            self.report.refusal = why

    # -- frames and commands ------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CSMS's (schema-checked) answer (see ``Link.call``)."""
        return await self.link.call(action, payload)

    async def _apply(self, effect: Effect) -> None:
        if isinstance(effect, StartSession):
            await self._session(effect, remote=True)
        elif isinstance(effect, StopSession):
            evse = self.state.evse_of(effect.transaction_ref)
            if evse is not None and evse in self._running:
                self._running[evse].session.stop_reason = effect.reason
                self._running[evse].stop.set()
        elif isinstance(effect, Reboot):
            await self._reset(effect)
        elif isinstance(effect, SendMessage):
            await self._triggered(effect)
        elif isinstance(effect, StartFirmwareUpdate):
            await self._start_firmware_update(effect)
        elif isinstance(effect, StartLogUpload):
            await self._start_log_upload(effect)
        elif isinstance(effect, RaiseSecurityEvent):
            await self.security_event(effect.kind)
        elif isinstance(effect, SetAvailability):
            status = "Available" if effect.operative else "Unavailable"
            for evse in [effect.evse_id] if effect.evse_id else list(self.meters):
                if evse not in self._running:
                    await self.call(*self.messages.status(evse, status))

    async def _reset(self, reboot: Reboot) -> None:
        reason = "HardReset" if reboot.immediate else "SoftReset"
        for running in list(self._running.values()):
            if reboot.immediate:
                running.session.stop_reason = reason
                running.stop.set()
            await running.done.wait()
        self._reboot = reboot
        self._rebooted.set()

    async def _triggered(self, trigger: SendMessage) -> None:
        evses = [trigger.evse_id] if trigger.evse_id else list(self.meters)
        kind = trigger.message
        if kind == "BootNotification":
            boot = self.messages.boot(self.station_id, "Triggered", self.state.firmware.version)
            await self.call(*boot)
        elif kind == "Heartbeat":
            await self.call("Heartbeat", {})
        elif kind == "StatusNotification":
            for evse in evses:
                status = "Charging" if evse in self._running else "Available"
                await self.call(*self.messages.status(evse, status))
        elif kind in ("MeterValues", "TransactionEvent"):
            for evse in evses:
                running = self._running.get(evse)
                if (
                    running is not None
                    and running.session.transaction_ref is not None
                    and (self.version == "1.6" or kind == "TransactionEvent")
                ):
                    reading = self.meters[evse].read(self.limit(evse))
                    await self.call(*self.messages.meter(running.session, reading))
                elif kind == "MeterValues":
                    await self.call(*self.messages.idle_meter(evse, self.meters[evse].read()))
        elif kind == "FirmwareStatusNotification":
            await self.call(*self.state.firmware.status_message(signed=trigger.extended))
        elif kind in ("DiagnosticsStatusNotification", "LogStatusNotification"):
            diagnostics = kind == "DiagnosticsStatusNotification"
            await self.call(*log_status_message(self.state.log, diagnostics=diagnostics))

    # -- firmware and logs (the UpdateHost of simulator.firmware) -------------------------------

    async def _start_firmware_update(self, effect: StartFirmwareUpdate) -> None:
        """Run the request; one that runs already is cancelled first (AcceptedCanceled)."""
        old, self._firmware_task = self._firmware_task, None
        if old is not None:
            old.cancel()
            await asyncio.gather(old, return_exceptions=True)
        update = FirmwareUpdate(
            effect.request,
            self.state.firmware,
            self.state.store,
            self,
            self._download,
            self.options.firmware_faults,
        )
        self._firmware_task = asyncio.create_task(update.run())
        self._firmware_task.add_done_callback(self._finished)

    async def _download(self, url: str) -> transfers.Download:
        verify: ssl.SSLContext | bool = self.options.download_ssl or self.ssl_context or True
        return await transfers.download(url, verify=verify, timeout=self.options.call_timeout)

    async def _start_log_upload(self, effect: StartLogUpload) -> None:
        old, self._log_task = self._log_task, None
        if old is not None:
            old.cancel()
            await asyncio.gather(old, return_exceptions=True)
        self.state.log.running = True  # the old upload's end must not clear the new one
        content = "\n".join([f"{self.station_id} firmware {self.state.firmware.version}"])
        content += "\n" + "\n".join(self.state.firmware.history) + "\n"
        verify: ssl.SSLContext | bool = self.options.download_ssl or self.ssl_context or True
        self._log_task = asyncio.create_task(
            upload_log(
                effect.request,
                self.state.log,
                content.encode(),
                notify=self.notify,
                upload=lambda url, name, data: transfers.upload(url, name, data, verify=verify),
                sleep=self.sleep,
            )
        )
        self._log_task.add_done_callback(self._finished)

    async def notify(self, action: str, payload: dict[str, Any]) -> None:
        """Send a notification once the station is booted; a lost one is only a warning."""
        await self._booted.wait()
        try:
            await self.call(action, payload)
        except (StationFailure, ServerCallError, ConnectionClosed) as exc:
            self.report.warnings.append(f"{action} {payload.get('status', '')}: {exc}")

    async def sleep(self, simulated_seconds: float) -> None:
        await self._sleep(simulated_seconds)

    async def until_idle(self) -> None:
        """Until no charging session runs (installation waits for them, 2.0.1 L01.FR.06)."""
        while self._running:
            await asyncio.sleep(0.02)

    async def reboot(self) -> None:
        self._booted.clear()
        await self._reset(Reboot(immediate=False, reason="FirmwareUpdate"))
        await self._booted.wait()

    async def security_event(self, kind: str) -> None:
        await self.notify("SecurityEventNotification", {"type": kind, "timestamp": timestamp()})

    # -- helpers -----------------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.stats.errors += 1
            self.report.warnings.append(str(exc))

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _expired(self) -> bool:
        return self.options.deadline is not None and self._now() >= self.options.deadline

    async def _sleep(self, simulated_seconds: float) -> None:
        await asyncio.sleep(simulated_seconds / self.options.speed)
