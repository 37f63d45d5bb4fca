"""Charging from the app: the user's app token, and who sees which charging sessions.

Remote starts carry the user's app token: an ``id_tokens`` row of type ``Central`` held by the
user (made on first use, 20 characters so that OCPP 1.6 idTag fits), so the core authorizes
and attributes the session. A session is the user's when its id token is one they hold (app
token or card). Visibility follows membership over time: a user sees the sessions that started
on a station while they were a member of it, also after they left (a former owner keeps their
history), and never those from before they joined (a new owner does not see the previous
owner's). Within such a period guests see their own sessions, owners and co-owners every
session (the periods come through :class:`~charging.ports.Memberships`). Energy and curve
follow ``charging.energy``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from charging.energy import CurvePoint, charging_curve, energy_wh
from charging.errors import NotVisible
from charging.events import IdTokenType, MeterSample
from charging.ports import Memberships
from charging.tables import IdTokenRow, MeterSampleRow, Transaction
from common.clock import as_utc

APP_TOKEN_PREFIX = "APP"


def app_token(session: Session, user_id: str) -> str:
    """The user's app id token (created on first use)."""
    row = session.exec(
        select(IdTokenRow).where(
            IdTokenRow.owner_user_id == user_id, IdTokenRow.type == IdTokenType.CENTRAL.value
        )
    ).first()
    if row is None:
        row = IdTokenRow(
            value=APP_TOKEN_PREFIX + secrets.token_hex(9).upper()[:17],
            type=IdTokenType.CENTRAL.value,
            owner_user_id=user_id,
        )
        session.add(row)
        session.flush()
    return row.value


def tokens_of(session: Session, user_id: str) -> list[str]:
    return list(
        session.exec(select(IdTokenRow.value).where(IdTokenRow.owner_user_id == user_id)).all()
    )


def visible_filter(session: Session, memberships: Memberships, user_id: str) -> ColumnElement[bool]:
    """A WHERE clause selecting the transactions the user may see.

    One clause per membership period (:meth:`~charging.ports.Memberships.session_windows`):
    the sessions on that station that started within the period; all of them for a role that
    sees every session, the user's own (by id token) for a role that sees its own.
    """
    tokens = tokens_of(session, user_id)
    clauses: list[ColumnElement[bool]] = []
    for window in memberships.session_windows(session, user_id):
        within = [
            col(Transaction.station_id) == window.station_id,
            col(Transaction.started_at) >= as_utc(window.started_at),
        ]
        if window.ended_at is not None:
            within.append(col(Transaction.started_at) < as_utc(window.ended_at))
        if window.all_sessions:
            clauses.append(and_(*within))
        elif window.own_sessions and tokens:
            clauses.append(and_(*within, col(Transaction.id_token).in_(tokens)))
    return or_(*clauses) if clauses else false()


def visible_transaction(
    session: Session, memberships: Memberships, user_id: str, transaction_id: int
) -> Transaction:
    """Raises :class:`NotVisible`."""
    found = session.exec(
        select(Transaction).where(
            col(Transaction.id) == transaction_id, visible_filter(session, memberships, user_id)
        )
    ).first()
    if found is None:
        raise NotVisible("charging session")
    return found


def is_own(session: Session, user_id: str, transaction: Transaction) -> bool:
    return transaction.id_token is not None and transaction.id_token in tokens_of(session, user_id)


@dataclass(frozen=True, slots=True)
class SessionDetail:
    transaction: Transaction
    energy_wh: float | None
    curve: list[CurvePoint]


def samples(session: Session, transaction_id: int) -> Sequence[MeterSample]:
    rows = session.exec(
        select(MeterSampleRow)
        .where(MeterSampleRow.transaction_id == transaction_id)
        .order_by(col(MeterSampleRow.timestamp))
    ).all()
    return [
        MeterSample(as_utc(r.timestamp), r.measurand, r.value, r.unit, r.phase, r.context)
        for r in rows
    ]


def detail(session: Session, transaction: Transaction) -> SessionDetail:
    assert transaction.id is not None
    kept = samples(session, transaction.id)
    energy = transaction.energy_wh
    if energy is None:
        energy = energy_wh(transaction.meter_start_wh, transaction.meter_stop_wh, kept)
    return SessionDetail(transaction, energy, charging_curve(kept))
