"""Membership history: when each user held which role on a station.

A membership (:class:`~enrollment.ownership.tables.Membership`) says who may use a station now
and is deleted when it ends; its period (:class:`~enrollment.ownership.tables.MembershipPeriod`)
stays, closed at the moment it ended. Charging sessions are visible by periods
(:mod:`charging.sessions`): a member sees what started while they were a member, also after
leaving, and never what started before they joined. Every place that makes or ends a
membership calls :func:`begin` or :func:`end` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from enrollment.ownership.tables import MembershipPeriod


def begin(session: Session, serial: str, user_id: str, role: str, *, now: datetime) -> None:
    """Open a period for a membership that starts at ``now``."""
    session.add(MembershipPeriod(station_serial=serial, user_id=user_id, role=role, started_at=now))


def end(session: Session, serial: str, *, now: datetime, user_id: str | None = None) -> None:
    """Close the open periods on ``serial`` (of ``user_id`` only, when given) at ``now``."""
    statement = update(MembershipPeriod).where(
        col(MembershipPeriod.station_serial) == serial, col(MembershipPeriod.ended_at).is_(None)
    )
    if user_id is not None:
        statement = statement.where(col(MembershipPeriod.user_id) == user_id)
    session.execute(statement.values(ended_at=now).execution_options(synchronize_session=False))


def periods_of(session: Session, user_id: str) -> Sequence[MembershipPeriod]:
    """Every period the user held, open or closed."""
    return session.exec(select(MembershipPeriod).where(MembershipPeriod.user_id == user_id)).all()
