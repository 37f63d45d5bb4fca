"""Pairing a released station with its first owner, and giving it up.

:func:`pair` follows :mod:`enrollment.pairing`: decode both payloads (422 with the reason,
nothing counted), check the lockout per device and per user, check both codes (a failure is
recorded against both keys in its own transaction and never says which code was wrong), then
move the device ``released -> paired``. The move is a conditional ``UPDATE devices SET
state = 'paired' WHERE serial = ? AND state = 'released'``: of two users pairing the same device
at once exactly one updates the row, and the partial unique index on owner memberships stands
behind it. An unknown serial answers like wrong codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app import audit
from app.clock import as_utc
from app.owners import history
from app.owners.errors import BadInput, Conflict, LockedOut, WrongCodes
from app.owners.tables import InvitationRow, Membership, PairingFailure
from enrollment.errors import InvalidTransition, QrPayloadError
from enrollment.invitations import Role
from enrollment.label_input import read_pair
from enrollment.lifecycle import DeviceState, Operation, apply
from enrollment.pairing import LockoutPolicy, check_pairing_codes
from enrollment.tables import DeviceRow

DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True, slots=True)
class Paired:
    serial: str
    role: Role


def lockout_keys(serial: str, user_id: str) -> list[str]:
    return [f"device:{serial}", f"user:{user_id}"]


def check_lockout(
    session: Session, keys: list[str], *, policy: LockoutPolicy, now: datetime
) -> None:
    """Raises :class:`LockedOut` with the longest wait of ``keys``."""
    waits = []
    for key in keys:
        row = session.get(PairingFailure, key)
        if row is None or row.last_failure_at is None:
            continue
        wait = policy.retry_after(row.failures, as_utc(row.last_failure_at), now=now)
        if wait is not None:
            waits.append(wait)
    if waits:
        raise LockedOut(max(1, int(max(waits).total_seconds() + 0.999)))


def record_failure(engine: Engine, keys: list[str], *, now: datetime, actor: audit.Actor) -> None:
    """Count a failure against each key, in a transaction of its own (the request fails)."""
    with Session(engine) as session:
        for key in keys:
            row = session.get(PairingFailure, key, with_for_update=True)
            if row is None:
                row = PairingFailure(key=key)
            row.failures += 1
            row.last_failure_at = now
            session.add(row)
        audit.record(
            session, actor, "device.pair_failed", object_type="device", outcome="failure", keys=keys
        )
        session.commit()


def pair(
    session: Session,
    device_payload: str,
    packaging_payload: str,
    *,
    user_id: str,
    pepper: bytes,
    actor: audit.Actor,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
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
    keys = lockout_keys(serial, user_id)
    check_lockout(session, keys, policy=policy, now=now)
    device = session.get(DeviceRow, serial)
    codes_ok = device is not None and check_pairing_codes(
        device_label.code,
        packaging_label.code,
        device_code_hash=device.device_code_hash,
        packaging_code_hash=device.packaging_code_hash,
        pepper=pepper,
    )
    if device is None or not codes_ok:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        record_failure(engine, keys, now=now, actor=actor)
        raise WrongCodes()
    _claim(session, device, user_id=user_id, now=now)
    session.exec(delete(PairingFailure).where(col(PairingFailure.key).in_(keys)))
    audit.record(
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


def unpair(session: Session, serial: str, *, actor: audit.Actor, now: datetime) -> list[str]:
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
    audit.record(
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
