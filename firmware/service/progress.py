"""Where rollouts stand, for readers (the admin API and the dashboard): the list, the waves,
the targets counted by wave and state (one GROUP BY over the ``(rollout_id, wave, state)``
index), and the targets themselves. Queries only; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from firmware.rollout_tables import RolloutRow, RolloutTargetRow, RolloutWaveRow


@dataclass(frozen=True, slots=True)
class Progress:
    """A rollout's targets counted by state, in total and per wave index."""

    totals: dict[str, int] = field(default_factory=dict)
    per_wave: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def target_total(self) -> int:
        return sum(self.totals.values())


def rollouts_query(state: str | None = None) -> SelectOfScalar[RolloutRow]:
    """Rollouts, newest first, optionally in one state."""
    query = select(RolloutRow).order_by(col(RolloutRow.id).desc())
    if state is not None:
        query = query.where(col(RolloutRow.state) == state)
    return query


def waves_of(session: Session, rollout_id: int) -> list[RolloutWaveRow]:
    return list(
        session.exec(
            select(RolloutWaveRow)
            .where(col(RolloutWaveRow.rollout_id) == rollout_id)
            .order_by(col(RolloutWaveRow.index))
        )
    )


def progress_of(session: Session, rollout_id: int) -> Progress:
    progress = Progress()
    for wave, state, n in session.exec(
        select(RolloutTargetRow.wave, RolloutTargetRow.state, func.count())
        .where(col(RolloutTargetRow.rollout_id) == rollout_id)
        .group_by(col(RolloutTargetRow.wave), col(RolloutTargetRow.state))
    ):
        progress.per_wave.setdefault(wave, {})[state] = int(n)
        progress.totals[state] = progress.totals.get(state, 0) + int(n)
    return progress


def targets_query(
    rollout_id: int, *, wave: int | None = None, state: str | None = None
) -> SelectOfScalar[RolloutTargetRow]:
    """A rollout's targets by wave, then station id; optionally one wave and/or one state."""
    query = (
        select(RolloutTargetRow)
        .where(col(RolloutTargetRow.rollout_id) == rollout_id)
        .order_by(col(RolloutTargetRow.wave), col(RolloutTargetRow.station_id))
    )
    if wave is not None:
        query = query.where(col(RolloutTargetRow.wave) == wave)
    if state is not None:
        query = query.where(col(RolloutTargetRow.state) == state)
    return query


__all__ = ["Progress", "progress_of", "rollouts_query", "targets_query", "waves_of"]
