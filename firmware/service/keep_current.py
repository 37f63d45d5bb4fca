"""The standing "keep current" rollout: each field station of the family to its channel's image.

A first sweep looks at every station of the family; later sweeps only at stations that booted
since (a station coming online for the first time, or again) and, when a channel's image
changed, at the whole family again. A station behind its channel gets a target (or its
finished target is reused for the new image); the stepper leaves it waiting while an explicit
rollout holds the station.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from enrollment.tables import HardwareFamilyRow
from firmware.rollout.states import FINAL_TARGET_STATES, RolloutState, TargetState
from firmware.rollout_tables import FirmwareReportRow, RolloutRow, RolloutTargetRow
from firmware.service.candidates import Candidate, family_candidates
from firmware.service.records import latest_report_id
from firmware.tables import FirmwareChannelRow, FirmwareImageRow
from firmware.versions import same_version

BOOTS_PER_SWEEP = 5000


def sweep(engine: Engine, now: datetime) -> None:
    """Add or renew keep-current targets for every running keep-current rollout."""
    with Session(engine) as session:
        ids = list(
            session.exec(
                select(RolloutRow.id).where(
                    col(RolloutRow.kind) == "keep_current",
                    col(RolloutRow.state) == RolloutState.RUNNING,
                )
            )
        )
    for rollout_id in ids:
        if rollout_id is not None:
            _sweep_one(engine, rollout_id, now)


def _channel_images(session: Session, family_id: int) -> dict[str, FirmwareImageRow]:
    images: dict[str, FirmwareImageRow] = {}
    for channel in session.exec(
        select(FirmwareChannelRow).where(col(FirmwareChannelRow.family_id) == family_id)
    ):
        if channel.image_id is not None:
            image = session.get(FirmwareImageRow, channel.image_id)
            if image is not None:
                images[channel.name] = image
    return images


def _sweep_one(engine: Engine, rollout_id: int, now: datetime) -> None:
    from firmware.service.claims import lock_rollout

    with Session(engine) as session:
        rollout = lock_rollout(session, rollout_id)
        if rollout is None or rollout.state != RolloutState.RUNNING:
            return
        family = session.get(HardwareFamilyRow, rollout.family_id)
        if family is None:
            return
        state: dict[str, Any] = json.loads(rollout.machine or "{}")
        images = _channel_images(session, rollout.family_id)
        seen = {name: image.id for name, image in images.items()}
        cursor = int(state.get("boot_cursor", 0))
        if state.get("channels") != seen:
            stations: list[str] | None = None  # everyone
            cursor = _last_report(session)
        else:
            boots = list(
                session.exec(
                    select(FirmwareReportRow.id, FirmwareReportRow.station_id)
                    .where(
                        col(FirmwareReportRow.id) > cursor, col(FirmwareReportRow.kind) == "boot"
                    )
                    .order_by(col(FirmwareReportRow.id))
                    .limit(BOOTS_PER_SWEEP)
                )
            )
            if not boots:
                session.commit()
                return
            cursor = int(boots[-1][0] or cursor)
            stations = sorted({station for _, station in boots})
        for candidate in family_candidates(session, family, stations=stations or ()):
            image = images.get(candidate.channel)
            if image is not None:
                _keep(session, rollout, candidate, image, now)
        state.update({"channels": seen, "boot_cursor": cursor})
        rollout.machine = json.dumps(state)
        rollout.updated_at = now
        session.add(rollout)
        session.commit()


def _last_report(session: Session) -> int:
    from sqlalchemy import func

    return int(session.exec(select(func.max(FirmwareReportRow.id))).one() or 0)


def _keep(
    session: Session,
    rollout: RolloutRow,
    candidate: Candidate,
    image: FirmwareImageRow,
    now: datetime,
) -> None:
    if candidate.firmware_version is not None and same_version(
        candidate.firmware_version, image.version
    ):
        return
    row = session.exec(
        select(RolloutTargetRow).where(
            col(RolloutTargetRow.rollout_id) == rollout.id,
            col(RolloutTargetRow.station_id) == candidate.station_id,
        )
    ).first()
    if row is not None and row.state not in FINAL_TARGET_STATES:
        return  # on its way already
    if row is not None and row.image_id == image.id and row.state == TargetState.FAILED:
        return  # this image failed on it: an admin decides (a rollout, or a new image)
    if row is None:
        row = RolloutTargetRow(rollout_id=rollout.id or 0, station_id=candidate.station_id, wave=0)
    row.image_id = image.id
    row.state = TargetState.WAITING
    row.request_id = None
    row.attempts = 0
    row.sent_at = row.last_report_at = row.probed_at = None
    row.failure = None
    row.detail = ""
    row.signed = bool(image.signature)
    row.old_version = candidate.firmware_version
    row.new_version = image.version
    row.machine = "{}"
    row.report_cursor = latest_report_id(session, candidate.station_id)
    row.updated_at = now
    session.add(row)
