"""Who works on what: the worker lease (SQLite) and per-target claims (PostgreSQL).

On PostgreSQL several workers run at once; each takes a batch of due targets with
``SELECT ... FOR UPDATE SKIP LOCKED`` and marks them ``claimed_by`` itself until
``claimed_until``, so two workers never step the same target, and a dead worker's claims lapse.
On SQLite (no row locks, one writer) one lease row lets exactly one worker run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from firmware.rollout_tables import RolloutRow, RolloutTargetRow, WorkerLeaseRow

LEASE = "rollouts"


def uses_lease(engine: Engine) -> bool:
    """SQLite has no row locks to share work by: one worker holds the lease and does it all."""
    return engine.dialect.name == "sqlite"


def acquire_lease(
    engine: Engine, holder: str, *, now: datetime, ttl: timedelta, name: str = LEASE
) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while another holder's is valid.

    One conditional UPDATE decides, so two workers racing for a lapsed lease cannot both win.
    """
    with Session(engine) as session:
        taken = session.execute(
            update(WorkerLeaseRow)
            .where(
                col(WorkerLeaseRow.name) == name,
                or_(col(WorkerLeaseRow.holder) == holder, col(WorkerLeaseRow.until) < now),
            )
            .values(holder=holder, until=now + ttl)
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if session.get(WorkerLeaseRow, name) is not None:
            return False
        session.add(WorkerLeaseRow(name=name, holder=holder, until=now + ttl))
        try:
            session.commit()
        except IntegrityError:
            return False
        return True


def release_lease(engine: Engine, holder: str, *, name: str = LEASE) -> None:
    with Session(engine) as session:
        lease = session.get(WorkerLeaseRow, name)
        if lease is not None and lease.holder == holder:
            session.delete(lease)
            session.commit()


def claim_targets(
    engine: Engine,
    holder: str,
    *,
    states: Iterable[str],
    watched: Iterable[str] = (),
    now: datetime,
    ttl: timedelta,
    limit: int = 100,
) -> list[int]:
    """Claim up to ``limit`` targets that nobody else holds: those of running rollouts in
    ``states``, and those of any rollout in ``watched`` (in flight: they keep reporting after a
    pause or an abort). Least recently stepped first.

    Returns the claimed target ids. Rows another transaction has locked are skipped, not
    waited for (PostgreSQL ``SKIP LOCKED``; SQLite ignores the lock clause and relies on the
    lease).
    """
    free = or_(
        col(RolloutTargetRow.claimed_until).is_(None),
        col(RolloutTargetRow.claimed_until) < now,
        col(RolloutTargetRow.claimed_by) == holder,
    )
    query = (
        select(RolloutTargetRow.id)
        .join(RolloutRow, col(RolloutRow.id) == col(RolloutTargetRow.rollout_id))
        .where(
            or_(
                (col(RolloutRow.state) == "running")
                & col(RolloutTargetRow.state).in_(list(states)),
                col(RolloutTargetRow.state).in_(list(watched)),
            ),
            free,
        )
        .order_by(col(RolloutTargetRow.updated_at), col(RolloutTargetRow.id))
        .limit(limit)
        .with_for_update(of=RolloutTargetRow, skip_locked=True)
    )
    with Session(engine) as session:
        ids = [row_id for row_id in session.exec(query) if row_id is not None]
        if ids:
            session.execute(
                update(RolloutTargetRow)
                .where(col(RolloutTargetRow.id).in_(ids))
                .values(claimed_by=holder, claimed_until=now + ttl)
            )
        session.commit()
    return ids


def release_claims(engine: Engine, holder: str, target_ids: Sequence[int]) -> None:
    """Give back claims early (a worker shutting down cleanly)."""
    if not target_ids:
        return
    with Session(engine) as session:
        session.execute(
            update(RolloutTargetRow)
            .where(
                col(RolloutTargetRow.id).in_(list(target_ids)),
                col(RolloutTargetRow.claimed_by) == holder,
            )
            .values(claimed_by=None, claimed_until=None)
        )
        session.commit()


def lock_rollout(session: Session, rollout_id: int) -> RolloutRow | None:
    """The rollout row, locked for this transaction; None when another worker has it locked."""
    query = (
        select(RolloutRow).where(col(RolloutRow.id) == rollout_id).with_for_update(skip_locked=True)
    )
    return session.exec(query).first()


def lock_target(session: Session, target_id: int, holder: str) -> RolloutTargetRow | None:
    """The target, locked for this transaction, if ``holder`` still holds its claim."""
    query = (
        select(RolloutTargetRow)
        .where(
            col(RolloutTargetRow.id) == target_id,
            col(RolloutTargetRow.claimed_by) == holder,
        )
        .with_for_update(skip_locked=True)
    )
    return session.exec(query).first()
