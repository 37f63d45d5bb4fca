"""The factory line's services: register, enroll, release, decommission, print labels.

Each function takes an open session, loads, applies the pure rules
(:mod:`enrollment.lifecycle`, :mod:`enrollment.codes`, :mod:`enrollment.sealing`), records the
move through the injected ``audit`` trail, and leaves the commit to the caller. Every lifecycle
move goes through :func:`enrollment.lifecycle.apply`, so an illegal one raises
``InvalidTransition`` naming the current state.

Registration is idempotent by serial: a repeat with the same family, lot and metadata returns
the registered device (``created=False``) and burns no MAC address; a repeat with other data
raises ``RegistrationConflict`` naming the fields that differ. Two registrations of one serial
racing each other both reach the insert; the loser's transaction fails on the primary key, is
rolled back (giving back its MAC address) and answers as a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from enrollment import repository
from enrollment.codes import hash_code, new_security_code
from enrollment.csv_import import Registration
from enrollment.errors import InvalidTransition
from enrollment.lifecycle import DeviceState, Operation, apply
from enrollment.metadata import check_metadata
from enrollment.ports import AuditTrail
from enrollment.sealing import LabelCodes, SecretKeys, open_codes, seal_codes
from enrollment.service_errors import (
    Difference,
    IdempotencyKeyReused,
    LabelsUnavailable,
    RegistrationConflict,
)
from enrollment.tables import DeviceRow, HardwareFamilyRow

__all__ = [
    "AuditTrail",
    "LotReleaseResult",
    "ReleaseOutcome",
    "Registered",
    "decommission",
    "device_metadata",
    "label_codes",
    "mark_enrolled",
    "register_device",
    "release_device",
    "release_lot",
]


@dataclass(frozen=True, slots=True)
class Registered:
    """A registration's answer; ``codes`` (plain) only when this call created the device."""

    device: DeviceRow
    family: HardwareFamilyRow
    created: bool
    codes: LabelCodes | None = None


def device_metadata(device: DeviceRow) -> dict[str, object]:
    value: dict[str, object] = json.loads(device.metadata_json)
    return value


def _metadata_json(metadata: Mapping[str, object]) -> str:
    return json.dumps(dict(metadata), sort_keys=True, separators=(",", ":"))


def _replay(
    session: Session, device: DeviceRow, registration: Registration
) -> tuple[HardwareFamilyRow, list[Difference]]:
    family = session.get(HardwareFamilyRow, device.family_id)
    assert family is not None  # a foreign key
    differences = []
    if family.name != registration.family:
        differences.append(Difference("family", family.name, registration.family))
    if device.lot != registration.lot:
        differences.append(Difference("lot", device.lot, registration.lot))
    requested = json.loads(_metadata_json(registration.metadata))
    if device_metadata(device) != requested:
        differences.append(Difference("metadata", device_metadata(device), requested))
    return family, differences


def _existing(
    session: Session, registration: Registration, idempotency_key: str | None
) -> Registered | None:
    if idempotency_key is not None:
        keyed = repository.device_by_idempotency_key(session, idempotency_key)
        if keyed is not None and keyed.serial != registration.serial:
            raise IdempotencyKeyReused(idempotency_key, keyed.serial)
    device = session.get(DeviceRow, registration.serial, populate_existing=True)
    if device is None:
        return None
    family, differences = _replay(session, device, registration)
    if differences:
        raise RegistrationConflict(registration.serial, differences)
    return Registered(device, family, created=False)


def register_device(
    session: Session,
    registration: Registration,
    *,
    keys: SecretKeys,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    idempotency_key: str | None = None,
) -> Registered:
    """Whitelist a device: a MAC address from the pool and two fresh security codes.

    On a lost race (another transaction registered the serial first) the session is rolled
    back, so nothing else may be pending in it.

    Raises:
        MetadataRefused, RegistrationConflict, IdempotencyKeyReused, UnknownFamily,
        MacPoolEmpty.
    """
    check_metadata(registration.metadata)
    existing = _existing(session, registration, idempotency_key)
    if existing is not None:
        return existing
    family = repository.get_family(session, registration.family)
    assert family.id is not None
    codes = LabelCodes(device=new_security_code(), packaging=new_security_code())
    serial = registration.serial
    try:
        range_id, mac = repository.allocate_mac(session)
        device = DeviceRow(
            serial=serial,
            family_id=family.id,
            lot=registration.lot,
            metadata_json=_metadata_json(registration.metadata),
            mac=mac,
            mac_range_id=range_id,
            state=DeviceState.REGISTERED.value,
            device_code_hash=hash_code(codes.device, pepper=keys.pepper),
            packaging_code_hash=hash_code(codes.packaging, pepper=keys.pepper),
            sealed_codes=seal_codes(codes, serial=serial, key=keys.sealing_key),
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
        )
        session.add(device)
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = _existing(session, registration, idempotency_key)
        if existing is None:
            raise
        return existing
    audit(
        session,
        actor,
        "device.register",
        object_type="device",
        object_id=serial,
        family=family.name,
        lot=registration.lot,
        mac=f"{mac:012X}",
    )
    return Registered(device, family, created=True, codes=codes)


def _move(
    session: Session,
    device: DeviceRow,
    operation: Operation,
    *,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    **detail: Any,
) -> None:
    current = DeviceState(device.state)
    target = apply(current, operation)
    device.state = target.value
    device.updated_at = now
    session.add(device)
    audit(
        session,
        actor,
        f"device.{operation.value}",
        object_type="device",
        object_id=device.serial,
        from_state=current.value,
        to_state=target.value,
        **detail,
    )


def mark_enrolled(
    session: Session,
    serial: str,
    *,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    certificate_serial: str | None = None,
) -> DeviceRow:
    """``registered -> enrolled``: the device holds a certificate from the station CA.

    Enrolling an enrolled device again (a new certificate for the same serial) records the
    new certificate without a transition.

    Raises:
        UnknownDevice, InvalidTransition (released, paired or decommissioned).
    """
    device = repository.get_device(session, serial, for_update=True)
    if device.state == DeviceState.ENROLLED:
        device.certificate_serial = certificate_serial or device.certificate_serial
        device.updated_at = now
        session.add(device)
        audit(
            session,
            actor,
            "device.reenroll",
            object_type="device",
            object_id=serial,
            certificate_serial=certificate_serial,
        )
        return device
    _move(
        session,
        device,
        Operation.ENROLL,
        actor=actor,
        now=now,
        audit=audit,
        certificate_serial=certificate_serial,
    )
    device.enrolled_at = now
    device.certificate_serial = certificate_serial
    return device


class ReleaseOutcome(StrEnum):
    RELEASED = "released"
    ALREADY_RELEASED = "already_released"
    REFUSED = "refused"


def release_device(
    session: Session, serial: str, *, actor: Any, now: datetime, audit: AuditTrail
) -> tuple[DeviceRow, ReleaseOutcome]:
    """``enrolled -> released``: the packaging code becomes usable for pairing.

    The sealed codes are erased. A released device is answered as a replay.

    Raises:
        UnknownDevice, InvalidTransition (any state but enrolled and released).
    """
    device = repository.get_device(session, serial, for_update=True)
    return device, _release(session, device, actor=actor, now=now, audit=audit)


def _release(
    session: Session, device: DeviceRow, *, actor: Any, now: datetime, audit: AuditTrail
) -> ReleaseOutcome:
    if device.state == DeviceState.RELEASED:
        return ReleaseOutcome.ALREADY_RELEASED
    _move(session, device, Operation.RELEASE, actor=actor, now=now, audit=audit)
    device.released_at = now
    device.sealed_codes = None
    return ReleaseOutcome.RELEASED


@dataclass(frozen=True, slots=True)
class LotReleaseResult:
    serial: str
    outcome: ReleaseOutcome
    state: DeviceState
    detail: str = ""


def release_lot(
    session: Session, lot: str, *, actor: Any, now: datetime, audit: AuditTrail
) -> list[LotReleaseResult]:
    """Release every enrolled device of ``lot``; refuse, per device, those in other states.

    Raises:
        UnknownDevice: the lot has no devices.
    """
    results = []
    for device in repository.lot_devices(session, lot, for_update=True):
        try:
            outcome = _release(session, device, actor=actor, now=now, audit=audit)
        except InvalidTransition as refused:
            results.append(
                LotReleaseResult(
                    device.serial, ReleaseOutcome.REFUSED, refused.current, str(refused)
                )
            )
            continue
        results.append(LotReleaseResult(device.serial, outcome, DeviceState(device.state)))
    return results


def decommission(
    session: Session,
    serial: str,
    *,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    reason: str = "",
) -> DeviceRow:
    """Retire a device for good (from any state but decommissioned); erase its sealed codes.

    Raises:
        UnknownDevice, InvalidTransition.
    """
    device = repository.get_device(session, serial, for_update=True)
    _move(session, device, Operation.DECOMMISSION, actor=actor, now=now, audit=audit, reason=reason)
    device.decommissioned_at = now
    device.sealed_codes = None
    return device


def label_codes(device: DeviceRow, *, keys: SecretKeys) -> LabelCodes:
    """The plain codes for printing ``device``'s labels, while the factory still holds them.

    Raises:
        LabelsUnavailable: the device was released or decommissioned (codes erased).
        SealError: the box does not open (the platform secret changed).
    """
    if device.sealed_codes is None:
        raise LabelsUnavailable(device.serial, device.state)
    return open_codes(device.sealed_codes, serial=device.serial, key=keys.sealing_key)
