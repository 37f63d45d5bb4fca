"""Health samples for a wave's gate, counted from the captured reports.

``observed``: the wave's updated stations since the soak began. ``baseline``: the same
stations over an equally long stretch just before their wave started, i.e. on the previous
version. Counts are one aggregate query each over the wave's stations (O(wave)).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from firmware.rollout.messages import HealthSample
from firmware.rollout.states import TargetState
from firmware.rollout_tables import FirmwareReportRow, RolloutTargetRow


def sample(
    session: Session, rollout_id: int, wave: int, *, start: datetime, end: datetime
) -> HealthSample:
    stations = select(RolloutTargetRow.station_id).where(
        col(RolloutTargetRow.rollout_id) == rollout_id,
        col(RolloutTargetRow.wave) == wave,
        col(RolloutTargetRow.state) == TargetState.SUCCEEDED,
    )
    count = session.exec(select(func.count()).select_from(stations.subquery())).one()
    hours = int(count) * max((end - start).total_seconds(), 0.0) / 3600

    def kind(name: str) -> object:
        return func.coalesce(func.sum(case((col(FirmwareReportRow.kind) == name, 1), else_=0)), 0)

    failed = func.coalesce(
        func.sum(
            case(
                (
                    (col(FirmwareReportRow.kind) == "session_ended")
                    & col(FirmwareReportRow.failed),
                    1,
                ),
                else_=0,
            )
        ),
        0,
    )
    row = session.exec(
        select(kind("fault"), kind("boot"), failed, kind("session_ended")).where(  # type: ignore[call-overload]
            col(FirmwareReportRow.station_id).in_(stations),
            col(FirmwareReportRow.at) >= start,
            col(FirmwareReportRow.at) < end,
        )
    ).one()
    faults, boots, failed_sessions, sessions = (int(v or 0) for v in row)
    return HealthSample(
        station_hours=hours,
        faults=faults,
        reboots=boots,
        failed_sessions=failed_sessions,
        sessions=sessions,
    )


def wave_samples(
    session: Session,
    rollout_id: int,
    wave: int,
    *,
    wave_started_at: datetime,
    soak_started_at: datetime,
    now: datetime,
) -> tuple[HealthSample, HealthSample]:
    """(baseline, observed) for the gate of ``wave``."""
    length = now - soak_started_at
    observed = sample(session, rollout_id, wave, start=soak_started_at, end=now)
    baseline = sample(
        session, rollout_id, wave, start=wave_started_at - length, end=wave_started_at
    )
    return baseline, observed
