"""Pairing a released station with its first owner, and giving it up.

:func:`pair` follows :mod:`enrollment.pairing`: decode both payloads (422 with the reason,
nothing counted), take an attempt from the platform's
:class:`~enrollment.ownership.ports.PairingGate` (per device and user, per user, and per
device; atomic in the database), check both codes (a failure is counted in its own transaction
and never says which code was wrong), then
move the device ``released -> paired``. The move is a conditional ``UPDATE devices SET
state = 'paired' WHERE serial = ? AND state = 'released'``: of two users pairing the same device
at once exactly one updates the row, and the partial unique index on owner memberships stands
behind it. An unknown serial answers like wrong codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from enrollment.errors import InvalidTransition, QrPayloadError
from enrollment.invitations import Role
from enrollment.label_input import read_pair
from enrollment.lifecycle import DeviceState, Operation, apply
from enrollment.ownership import history
from enrollment.ownership.errors import BadInput, Conflict, WrongCodes
from enrollment.ownership.ports import AuditTrail, PairingGate
from enrollment.ownership.tables import InvitationRow, Membership
from enrollment.pairing import check_pairing_codes
from enrollment.tables import DeviceRow

AttemptT = TypeVar("AttemptT")


@dataclass(frozen=True, slots=True)
class Paired:
    serial: str
    role: Role


def record_failure(
    engine: Engine,
    gate: PairingGate[AttemptT],
    attempt: AttemptT,
    serial: str,
    *,
    audit: AuditTrail,
    actor: Any,
    now: datetime,
) -> None:
    """Count the failure and audit it, in transactions of their own (the request fails)."""
    gate.failed(engine, attempt, now=now, actor=actor)
    with Session(engine) as session:
        audit(
            session,
            actor,
            "device.pair_failed",
            object_type="device",
            object_id=serial,
            outcome="failure",
        )
        session.commit()


def pair(
    session: Session,
    device_payload: str,
    packaging_payload: str,
    *,
    user_id: str,
    pepper: bytes,
    gate: PairingGate[AttemptT],
    audit: AuditTrail,
    actor: Any,
    now: datetime,
    serial: str | None = None,
) -> Paired:
    """Make ``user_id`` the owner of the station both labels name.

    Each label is its scanned QR payload or the text printed under it
    (:func:`enrollment.label_input.read_pair`); ``serial`` names the station when the typed
    codes alone do not.

    Raises:
        BadInput (``invalid-qr-payload`` with ``reason``), LockedOut, WrongCodes,
        Conflict (``station-owned``, ``device-not-released`` with ``state``).
    """
    try:
        device_label, packaging_label = read_pair(device_payload, packaging_payload, serial=serial)
    except QrPayloadError as exc:
        raise BadInput("invalid-qr-payload", exc.detail, reason=exc.reason.value) from None
    serial = device_label.serial
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    session.rollback()  # hand the connection back: the throttle counts in its own transactions
    attempt = gate.admit(engine, serial, user_id, now=now)  # raises LockedOut
    device = session.get(DeviceRow, serial)
    codes_ok = device is not None and check_pairing_codes(
        device_label.code,
        packaging_label.code,
        device_code_hash=device.device_code_hash,
        packaging_code_hash=device.packaging_code_hash,
        pepper=pepper,
    )
    session.rollback()  # the same: never hold two connections at once
    if device is None or not codes_ok:
        record_failure(engine, gate, attempt, serial, audit=audit, actor=actor, now=now)
        raise WrongCodes()
    gate.succeeded(engine, attempt)
    _claim(session, device, user_id=user_id, now=now)
    audit(
        session,
        actor,
        "device.pair",
        object_type="device",
        object_id=serial,
        from_state=DeviceState.RELEASED.value,
        to_state=DeviceState.PAIRED.value,
        owner=user_id,
    )
    return Paired(serial, Role.OWNER)


def _claim(session: Session, device: DeviceRow, *, user_id: str, now: datetime) -> None:
    state = DeviceState(device.state)
    if state is DeviceState.PAIRED:
        raise Conflict("station-owned", "this station already has an owner")
    try:
        apply(state, Operation.PAIR)
    except InvalidTransition as exc:
        raise Conflict("device-not-released", str(exc), state=state.value) from None
    claimed = session.execute(
        update(DeviceRow)
        .where(
            col(DeviceRow.serial) == device.serial,
            col(DeviceRow.state) == DeviceState.RELEASED.value,
        )
        .values(state=DeviceState.PAIRED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("station-owned", "this station already has an owner")
    try:
        session.add(
            Membership(
                station_serial=device.serial, user_id=user_id, role=Role.OWNER.value, created_at=now
            )
        )
        session.flush()
    except IntegrityError:
        raise Conflict("station-owned", "this station already has an owner") from None
    history.begin(session, device.serial, user_id, Role.OWNER.value, now=now)


def unpair(
    session: Session, serial: str, *, audit: AuditTrail, actor: Any, now: datetime
) -> list[str]:
    """``paired -> released``: drop every membership and pending invitation.

    Returns the user ids who were members (their cards and certificates are the caller's to
    revoke). Raises ``InvalidTransition`` when the device is not paired.
    """
    device = session.exec(
        select(DeviceRow).where(DeviceRow.serial == serial).with_for_update()
    ).one()
    target = apply(DeviceState(device.state), Operation.UNPAIR)
    device.state = target.value
    device.updated_at = now
    session.add(device)
    members = session.exec(select(Membership).where(Membership.station_serial == serial)).all()
    user_ids = [m.user_id for m in members]
    session.exec(delete(Membership).where(col(Membership.station_serial) == serial))
    history.end(session, serial, now=now)
    session.execute(
        update(InvitationRow)
        .where(
            col(InvitationRow.station_serial) == serial,
            col(InvitationRow.used_at).is_(None),
            col(InvitationRow.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    audit(
        session,
        actor,
        "device.unpair",
        object_type="device",
        object_id=serial,
        from_state=DeviceState.PAIRED.value,
        to_state=target.value,
        members=user_ids,
    )
    return user_ids
