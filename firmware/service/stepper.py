"""One target's step, in three short transactions around the network:

1. **decide** (locked target): apply its new reports in order, ask the engine what is due, and
   write the command to the outbox with the target's new state. A target with an unanswered
   outbox row decides nothing: that command is sent again first, with the same requestId.
2. **send** (no transaction): the outbox command through the station link; a first update
   makes sure the station holds the family's manufacturer root.
3. **answer** (locked target): the station's answer marks the outbox row and goes to the
   engine.

A worker killed anywhere leaves either the old state (nothing committed) or the new state with
its command in the outbox; whoever claims the target next carries on from there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from charging.commands import Command
from charging.tables import Station
from common.clock import utcnow
from firmware.rollout import targets as machine
from firmware.rollout.messages import (
    BootReport,
    CommandAnswer,
    FetchLog,
    Probe,
    SendUpdate,
    StopCharging,
    TargetCommand,
)
from firmware.rollout.policy import RolloutPolicy, policy_from_dict
from firmware.rollout.states import FINAL_TARGET_STATES
from firmware.rollout_tables import (
    ActiveTargetRow,
    OutboxRow,
    RequestIdRow,
    RolloutRow,
    RolloutTargetRow,
)
from firmware.service import dispatch
from firmware.service.admin import release_stations
from firmware.service.claims import lock_target
from firmware.service.ports import (
    ERROR,
    Answer,
    LocationIssuer,
    LogLocations,
    RootSource,
    StationLink,
)
from firmware.service.records import (
    active_transaction_ref,
    new_reports,
    station_facts,
    store_target,
    to_report,
    to_target,
)
from firmware.tables import FirmwareImageRow

log = logging.getLogger(__name__)

_NO_ID = -1  # what ``due`` gets as the next requestId; a real one is allocated only if used


@dataclass(frozen=True, slots=True)
class Pending:
    """An outbox command to send, with what sending it needs."""

    outbox_id: int
    target_id: int
    station_id: str
    kind: str
    request_id: int | None
    body: dict[str, Any]
    family_id: int
    image_id: int | None
    first: bool


def allocate_request_id(session: Session, station_id: str, target_id: int) -> int:
    row = RequestIdRow(station_id=station_id, target_id=target_id)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _encode(command: TargetCommand) -> tuple[str, int | None, dict[str, Any]]:
    if isinstance(command, SendUpdate):
        return (
            "update",
            command.request_id,
            {
                "signed": command.signed,
                "retrieve_at": command.retrieve_at.isoformat(),
                "attempt": command.attempt,
            },
        )
    if isinstance(command, Probe):
        return "probe", command.request_id, {}
    if isinstance(command, FetchLog):
        return "log", command.request_id, {}
    assert isinstance(command, StopCharging)
    return "stop", None, {}


class TargetStepper:
    """Steps targets for one worker (``holder``)."""

    def __init__(
        self,
        engine: Engine,
        link: StationLink,
        locations: LocationIssuer,
        roots: RootSource,
        *,
        holder: str,
        logs: LogLocations | None = None,
    ) -> None:
        self.engine = engine
        self.link = link
        self.locations = locations
        self.roots = roots
        self.logs = logs
        self.holder = holder

    # -- 1. decide ---------------------------------------------------------------------------

    def decide(self, target_id: int, now: datetime) -> Pending | None:
        with Session(self.engine, expire_on_commit=False) as session:
            row = lock_target(session, target_id, self.holder)
            if row is None:
                return None
            rollout = session.get(RolloutRow, row.rollout_id)
            assert rollout is not None
            unsent = self._unanswered(session, target_id)
            if unsent is not None:
                session.commit()
                return self._pending(unsent, row, rollout)
            image_id = row.image_id or rollout.image_id
            image = None if image_id is None else session.get(FirmwareImageRow, image_id)
            if image is None:
                return None
            policy = policy_from_dict(json.loads(rollout.policy))
            target = to_target(row, image.version)
            if target.signed and not image.signature:
                target.signed = False
            commands: list[TargetCommand] = []
            for report_row in new_reports(session, row.station_id, row.report_cursor):
                report = to_report(report_row)
                if isinstance(report, BootReport):
                    commands += machine.on_boot(target, report, now)
                else:
                    commands += machine.on_report(target, report, now)
                row.report_cursor = report_row.id or row.report_cursor
            if self._may_act(session, rollout, target):
                facts = station_facts(session, row.station_id)
                command = machine.due(target, facts, policy, now, next_request_id=_NO_ID)
                if command is not None:
                    commands.append(command)
            pending = self._queue(session, row, target, commands, now)
            store_target(row, target, now)
            if target.state in FINAL_TARGET_STATES and rollout.kind != "keep_current":
                release_stations(session, rollout.id or 0, [row.station_id])
            session.add(row)
            session.commit()
            return None if pending is None else self._pending(pending, row, rollout)

    def _may_act(self, session: Session, rollout: RolloutRow, target: machine.Target) -> bool:
        """Running rollouts dispatch; any rollout watches what it already sent. A keep-current
        target waits while an explicit rollout holds its station."""
        if target.final:
            return False
        if target.in_flight:
            return True
        if rollout.state != "running":
            return False
        if rollout.kind == "keep_current":
            return session.get(ActiveTargetRow, target.station_id) is None
        return True

    def _unanswered(self, session: Session, target_id: int) -> OutboxRow | None:
        return session.exec(
            select(OutboxRow)
            .where(col(OutboxRow.target_id) == target_id, col(OutboxRow.answered_at).is_(None))
            .order_by(col(OutboxRow.id))
        ).first()

    def _queue(
        self,
        session: Session,
        row: RolloutTargetRow,
        target: machine.Target,
        commands: list[TargetCommand],
        now: datetime,
    ) -> OutboxRow | None:
        first: OutboxRow | None = None
        for command in commands:
            if isinstance(command, SendUpdate) and command.request_id == _NO_ID:
                request_id = allocate_request_id(session, row.station_id, row.id or 0)
                target.request_id = request_id
                command = SendUpdate(
                    command.station_id,
                    request_id,
                    command.signed,
                    command.retrieve_at,
                    command.attempt,
                )
            kind, sent_id, body = _encode(command)
            outbox = OutboxRow(
                target_id=row.id or 0,
                station_id=row.station_id,
                kind=kind,
                request_id=sent_id,
                command=json.dumps(body),
                created_at=now,
            )
            session.add(outbox)
            session.flush()
            first = first or outbox
        return first

    def _pending(self, outbox: OutboxRow, row: RolloutTargetRow, rollout: RolloutRow) -> Pending:
        body = json.loads(outbox.command)
        return Pending(
            outbox_id=outbox.id or 0,
            target_id=row.id or 0,
            station_id=row.station_id,
            kind=outbox.kind,
            request_id=outbox.request_id,
            body=body,
            family_id=rollout.family_id,
            image_id=row.image_id or rollout.image_id,
            first=outbox.kind == "update" and int(body.get("attempt", 1)) == 1,
        )

    # -- 2. send -----------------------------------------------------------------------------

    async def send(self, pending: Pending, policy: RolloutPolicy) -> Answer:
        try:
            command = self._command(pending, policy)
        except dispatch.UnsignedImage as exc:
            return Answer(ERROR, detail=str(exc))
        if command is None:
            return Answer("NotSupported", detail=f"no {pending.kind} command for this station")
        if pending.first:
            root = await dispatch.ensure_root(
                self.link, pending.station_id, self.roots.manufacturer_root(pending.family_id)
            )
            if root.status in ("Offline", "Timeout"):
                return root
            if root.status not in ("Accepted", "NotSupported"):
                log.warning(
                    "%s refused the manufacturer root (%s); sending the update anyway",
                    pending.station_id,
                    root.status,
                )
        return await self.link.send(pending.station_id, command)

    def _command(self, pending: Pending, policy: RolloutPolicy) -> Command | None:
        with Session(self.engine) as session:
            if pending.kind == "log":
                return self._log_command(session, pending)
            if pending.kind == "probe":
                target = session.get(RolloutTargetRow, pending.target_id)
                return dispatch.probe_command(signed=target is not None and target.signed)
            if pending.kind == "stop":
                ref = active_transaction_ref(session, pending.station_id)
                return None if ref is None else dispatch.stop_command(ref)
            image = (
                None
                if pending.image_id is None
                else session.get(FirmwareImageRow, pending.image_id)
            )
        if image is None or pending.request_id is None:
            return None
        return dispatch.update_command(
            image,
            locations=self.locations,
            station_id=pending.station_id,
            target_id=pending.target_id,
            request_id=pending.request_id,
            signed=bool(pending.body["signed"]),
            retrieve_at=datetime.fromisoformat(pending.body["retrieve_at"]),
            retries=policy.retries,
            retry_interval=policy.retry_interval,
            protocol=policy.download_protocol,
        )

    def _log_command(self, session: Session, pending: Pending) -> Command | None:
        """GetLog where the station speaks it (2.x, 1.6 whitepaper), else 1.6 GetDiagnostics."""
        if self.logs is None or pending.request_id is None:
            return None
        target = session.get(RolloutTargetRow, pending.target_id)
        station = session.get(Station, pending.station_id)
        location = self.logs.log_location(
            station_id=pending.station_id,
            request_id=pending.request_id,
            target_id=pending.target_id,
            now=utcnow(),
        )
        plain_16 = station is not None and station.ocpp_version == "1.6"
        plain_16 = plain_16 and (target is None or not target.signed)
        return dispatch.log_command(location, pending.request_id, diagnostics=plain_16)

    # -- 3. answer ---------------------------------------------------------------------------

    def answer(self, pending: Pending, answer: Answer, now: datetime) -> None:
        with Session(self.engine) as session:
            row = lock_target(session, pending.target_id, self.holder)
            if row is None:
                return
            outbox = session.get(OutboxRow, pending.outbox_id)
            if outbox is None or outbox.answered_at is not None:
                return
            # Answered, or not (Offline, Timeout): either way the engine decides what next; an
            # unanswered update is resent by it with the same requestId after retry_interval.
            outbox.attempts += 1
            outbox.sent_at = now
            outbox.answered_at = now
            outbox.answer = answer.status[:50]
            session.add(outbox)
            if pending.kind != "update" or pending.request_id is None:
                session.commit()
                return
            rollout = session.get(RolloutRow, row.rollout_id)
            assert rollout is not None
            image_id = row.image_id or rollout.image_id
            image = None if image_id is None else session.get(FirmwareImageRow, image_id)
            policy = policy_from_dict(json.loads(rollout.policy))
            target = to_target(row, "" if image is None else image.version)
            status = answer.status if answer.status != ERROR else "Rejected"
            followups = machine.on_answer(
                target,
                CommandAnswer(row.station_id, pending.request_id, status, now),
                now,
                policy=policy,
            )
            if answer.detail and target.detail is None:
                target.detail = answer.detail[:500]
            self._queue(session, row, target, followups, now)
            store_target(row, target, now)
            if target.state in FINAL_TARGET_STATES and rollout.kind != "keep_current":
                release_stations(session, rollout.id or 0, [row.station_id])
            session.add(row)
            session.commit()

    def policy_of(self, pending: Pending) -> RolloutPolicy:
        with Session(self.engine) as session:
            row = session.get(RolloutTargetRow, pending.target_id)
            assert row is not None
            rollout = session.get(RolloutRow, row.rollout_id)
            assert rollout is not None
            return policy_from_dict(json.loads(rollout.policy))
