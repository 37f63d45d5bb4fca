"""A rollout row as the engine's ``Rollout`` and back, and the engine's moves applied to the
database (starting a wave, cancelling what was not sent, the state change)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from common.clock import as_utc
from firmware.rollout.machine import Rollout
from firmware.rollout.messages import CancelWaiting, RolloutAction, RolloutChanged, StartWave
from firmware.rollout.policy import policy_from_dict
from firmware.rollout.states import (
    FINAL_ROLLOUT_STATES,
    FailureKind,
    Outcome,
    RolloutState,
    TargetState,
)
from firmware.rollout.waves import WaveCounts
from firmware.rollout_tables import ActiveTargetRow, RolloutRow, RolloutTargetRow, RolloutWaveRow

_TIMES = ("finished_at", "wave_started_at", "soak_started_at", "paused_at")


def _counts_to(counts: WaveCounts) -> dict[str, Any]:
    return {
        "states": {k.value: v for k, v in counts.states.items()},
        "failures": {k.value: v for k, v in counts.failures.items()},
    }


def _counts_from(data: dict[str, Any] | None) -> WaveCounts:
    if not data:
        return WaveCounts()
    return WaveCounts(
        {TargetState(k): int(v) for k, v in data.get("states", {}).items()},
        {FailureKind(k): int(v) for k, v in data.get("failures", {}).items()},
    )


def to_rollout(row: RolloutRow) -> Rollout:
    extra: dict[str, Any] = json.loads(row.machine or "{}")
    rollout = Rollout(
        policy=policy_from_dict(json.loads(row.policy)),
        wave_sizes=tuple(json.loads(row.wave_sizes or "[]")),
        state=RolloutState(row.state),
        wave_index=row.wave_index if row.state != RolloutState.DRAFT else -1,
        reason=row.reason or None,
        outcome=None if row.outcome is None else Outcome(row.outcome),
        started_at=as_utc(row.started_at),
        resumed_at=as_utc(row.resumed_at),
        closed=_counts_from(extra.get("closed")),
        floor=_counts_from(extra.get("floor")),
        current=_counts_from(extra.get("current")),
        accepted_wave=extra.get("accepted_wave"),
    )
    for name in _TIMES:
        value = extra.get(name)
        setattr(rollout, name, None if value is None else as_utc(datetime.fromisoformat(value)))
    return rollout


def store_rollout(row: RolloutRow, rollout: Rollout, now: datetime) -> None:
    row.state = rollout.state.value
    row.wave_index = max(rollout.wave_index, 0)
    row.reason = (rollout.reason or "")[:500]
    row.outcome = None if rollout.outcome is None else rollout.outcome.value
    row.started_at = rollout.started_at
    row.resumed_at = rollout.resumed_at
    row.ended_at = rollout.finished_at
    extra: dict[str, Any] = {
        "closed": _counts_to(rollout.closed),
        "floor": _counts_to(rollout.floor),
        "current": _counts_to(rollout.current),
        "accepted_wave": rollout.accepted_wave,
    }
    for name in _TIMES:
        value = getattr(rollout, name)
        extra[name] = None if value is None else value.isoformat()
    row.machine = json.dumps(extra)
    row.updated_at = now


def wave_counts(session: Session, rollout_id: int, wave: int) -> WaveCounts:
    """The wave's targets counted by state and failure kind (one GROUP BY: O(wave))."""
    rows = session.exec(
        select(RolloutTargetRow.state, RolloutTargetRow.failure, func.count())
        .where(col(RolloutTargetRow.rollout_id) == rollout_id, col(RolloutTargetRow.wave) == wave)
        .group_by(col(RolloutTargetRow.state), col(RolloutTargetRow.failure))
    )
    states: dict[TargetState, int] = {}
    failures: dict[FailureKind, int] = {}
    for state, failure, n in rows:
        key = TargetState(state)
        states[key] = states.get(key, 0) + int(n)
        if key is TargetState.FAILED and failure is not None:
            failures[FailureKind(failure)] = failures.get(FailureKind(failure), 0) + int(n)
    return WaveCounts(states, failures)


def apply_actions(
    session: Session, row: RolloutRow, actions: list[RolloutAction], now: datetime
) -> None:
    rollout_id = row.id or 0
    for action in actions:
        if isinstance(action, StartWave):
            session.execute(
                update(RolloutTargetRow)
                .where(
                    col(RolloutTargetRow.rollout_id) == rollout_id,
                    col(RolloutTargetRow.wave) == action.wave,
                    col(RolloutTargetRow.state) == TargetState.PENDING,
                )
                .values(state=TargetState.WAITING, updated_at=now)
            )
            session.execute(
                update(RolloutWaveRow)
                .where(
                    col(RolloutWaveRow.rollout_id) == rollout_id,
                    col(RolloutWaveRow.index) == action.wave,
                )
                .values(started_at=now)
            )
            if action.wave > 0:
                _close_wave(session, rollout_id, action.wave - 1, now, "advanced")
        elif isinstance(action, CancelWaiting):
            session.execute(
                update(RolloutTargetRow)
                .where(
                    col(RolloutTargetRow.rollout_id) == rollout_id,
                    col(RolloutTargetRow.state).in_([TargetState.PENDING, TargetState.WAITING]),
                    col(RolloutTargetRow.attempts) == 0,
                )
                .values(state=TargetState.CANCELLED, updated_at=now, detail="rollout ended")
            )
        elif isinstance(action, RolloutChanged) and action.state in FINAL_ROLLOUT_STATES:
            _close_wave(session, rollout_id, row.wave_index, now, action.reason or action.state)
            session.execute(
                ActiveTargetRow.__table__.delete().where(  # type: ignore[attr-defined]
                    ActiveTargetRow.__table__.c.rollout_id == rollout_id  # type: ignore[attr-defined]
                )
            )
        elif isinstance(action, RolloutChanged) and action.state == RolloutState.PAUSED:
            _mark_wave(session, rollout_id, row.wave_index, f"paused: {action.reason or ''}")


def _close_wave(session: Session, rollout_id: int, wave: int, now: datetime, verdict: str) -> None:
    session.execute(
        update(RolloutWaveRow)
        .where(
            col(RolloutWaveRow.rollout_id) == rollout_id,
            col(RolloutWaveRow.index) == wave,
            col(RolloutWaveRow.ended_at).is_(None),
        )
        .values(ended_at=now, verdict=verdict[:200])
    )


def _mark_wave(session: Session, rollout_id: int, wave: int, verdict: str) -> None:
    session.execute(
        update(RolloutWaveRow)
        .where(col(RolloutWaveRow.rollout_id) == rollout_id, col(RolloutWaveRow.index) == wave)
        .values(verdict=verdict[:200])
    )


def mark_soak(session: Session, rollout_id: int, wave: int, at: datetime) -> None:
    session.execute(
        update(RolloutWaveRow)
        .where(
            col(RolloutWaveRow.rollout_id) == rollout_id,
            col(RolloutWaveRow.index) == wave,
            col(RolloutWaveRow.soak_started_at).is_(None),
        )
        .values(soak_started_at=at, verdict="soaking")
    )
