"""RFID cards: registered by owners and co-owners, granted per station, pushed as local lists.

A card is an ``id_tokens`` row whose ``owner_user_id`` is its holder (the registrar, or a member
they name). Who is a member where comes through the :class:`~charging.ports.Memberships` port.
Registering grants it on every station where the registrar may register cards and
the holder is a member. Each grant or withdrawal bumps that station's local-list version
(:mod:`charging.local_list`). Each grant is mirrored as an ``id_token_stations`` row, so the
charging core accepts the card online (Authorize, StartTransaction, TransactionEvent) only at
those stations and answers NotAtThisLocation (1.6: Invalid) elsewhere. A card left with no
grant is set ``Invalid`` (a token without stations would be valid everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from charging import local_list
from charging.errors import Conflict, NotAllowed, NotVisible
from charging.ports import AuditTrail, Memberships
from charging.tables import CardGrant, IdTokenRow, IdTokenStation

INVALID = "Invalid"


@dataclass(frozen=True, slots=True)
class Card:
    value: str
    type: str
    holder_user_id: str | None
    status: str
    stations: tuple[str, ...]


def _card(session: Session, row: IdTokenRow, shown: set[str] | None = None) -> Card:
    grants = session.exec(select(CardGrant).where(CardGrant.id_token == row.value)).all()
    serials = sorted(g.station_serial for g in grants if shown is None or g.station_serial in shown)
    return Card(row.value, row.type, row.owner_user_id, row.status, tuple(serials))


def register(
    session: Session,
    memberships: Memberships,
    *,
    registrar_id: str,
    value: str,
    token_type: str,
    holder_id: str | None,
    audit: AuditTrail,
    actor: Any,
    now: datetime,
) -> tuple[Card, list[str]]:
    """Register a card and grant it; the card and the stations whose list changed.

    Raises:
        NotAllowed (the registrar may register cards nowhere), NotVisible (the holder shares
        no such station with the registrar), Conflict (``card-taken``: another holder's card).
    """
    holder = holder_id or registrar_id
    allowed = memberships.card_stations(session, registrar_id)
    if not allowed:
        raise NotAllowed("only owners and co-owners register cards")
    members = memberships.member_stations(session, holder)
    targets = [s for s in allowed if s in members]
    if not targets:
        raise NotVisible("user")
    row = _locked(session, value)
    if row is not None and row.owner_user_id != holder:
        raise Conflict("card-taken", "this card is registered to someone else")
    if row is None:
        row = IdTokenRow(value=value, type=token_type, owner_user_id=holder, created_at=now)
    row.status = local_list.ACCEPTED
    session.add(row)
    session.flush()
    changed = []
    for serial in targets:
        if _grant(session, row, serial, registrar_id, now):
            changed.append(serial)
    audit(
        session, actor, "card.register", object_type="id_token", object_id=value, stations=changed
    )
    return _card(session, row), changed


def _locked(session: Session, value: str) -> IdTokenRow | None:
    """The card's row, locked until commit (PostgreSQL; SQLite serialises writers): grants
    and the card's status change under this lock, so no race leaves an accepted card without
    stations, which the core would take for a fleet-wide token."""
    return session.exec(
        select(IdTokenRow).where(IdTokenRow.value == value).with_for_update()
    ).first()


def _grant(session: Session, row: IdTokenRow, serial: str, registrar: str, now: datetime) -> bool:
    exists = session.exec(
        select(CardGrant).where(CardGrant.id_token == row.value, CardGrant.station_serial == serial)
    ).first()
    if exists is not None:
        return False
    session.add(
        CardGrant(
            id_token=row.value, station_serial=serial, registered_by=registrar, created_at=now
        )
    )
    if session.get(IdTokenStation, (row.value, serial)) is None:
        session.add(IdTokenStation(id_token=row.value, station_id=serial))
    local_list.record_change(session, serial, row.value, row.type, added=True)
    return True


def withdraw(session: Session, row: IdTokenRow, serials: Sequence[str]) -> list[str]:
    """Withdraw the card from ``serials``; invalidate it when no grant is left."""
    changed = []
    for grant in session.exec(select(CardGrant).where(CardGrant.id_token == row.value)).all():
        if grant.station_serial in serials:
            session.delete(grant)
            scope = session.get(IdTokenStation, (row.value, grant.station_serial))
            if scope is not None:
                session.delete(scope)
            local_list.record_change(
                session, grant.station_serial, row.value, row.type, added=False
            )
            changed.append(grant.station_serial)
    session.flush()
    if session.exec(select(CardGrant).where(CardGrant.id_token == row.value)).first() is None:
        row.status = INVALID
        session.add(row)
    return changed


def remove(
    session: Session,
    memberships: Memberships,
    *,
    caller_id: str,
    value: str,
    audit: AuditTrail,
    actor: Any,
) -> list[str]:
    """The holder removes their card everywhere; an owner or co-owner from their stations.

    Raises:
        NotVisible: the caller neither holds the card nor manages a station it is granted on.
    """
    row = _locked(session, value)
    if row is None:
        raise NotVisible("card")
    granted = {g.station_serial for g in _grants(session, value)}
    if row.owner_user_id == caller_id:
        serials = sorted(granted)
    else:
        serials = sorted(granted & set(memberships.card_stations(session, caller_id)))
        if not serials:
            raise NotVisible("card")
    changed = withdraw(session, row, serials)
    audit(session, actor, "card.remove", object_type="id_token", object_id=value, stations=changed)
    return changed


def _grants(session: Session, value: str) -> Sequence[CardGrant]:
    return session.exec(select(CardGrant).where(CardGrant.id_token == value)).all()


def cut_off(session: Session, serial: str, user_id: str) -> list[str]:
    """Withdraw every card the user holds from the station; the card values."""
    rows = session.exec(
        select(IdTokenRow)
        .join(CardGrant, col(CardGrant.id_token) == col(IdTokenRow.value))
        .where(IdTokenRow.owner_user_id == user_id, CardGrant.station_serial == serial)
        .with_for_update(of=IdTokenRow)
    ).all()
    for row in rows:
        withdraw(session, row, [serial])
    return [row.value for row in rows]


def cards_for(session: Session, memberships: Memberships, user_id: str) -> list[Card]:
    """Cards the user holds, and cards on the stations where they manage cards."""
    managed = set(memberships.card_stations(session, user_id))
    values = set(
        session.exec(select(IdTokenRow.value).where(IdTokenRow.owner_user_id == user_id)).all()
    )
    if managed:
        values |= set(
            session.exec(
                select(CardGrant.id_token).where(col(CardGrant.station_serial).in_(managed))
            ).all()
        )
    rows = session.exec(
        select(IdTokenRow).where(col(IdTokenRow.value).in_(values)).order_by(col(IdTokenRow.value))
    ).all()
    visible = memberships.member_stations(session, user_id)
    return [_card(session, row, visible) for row in rows]
