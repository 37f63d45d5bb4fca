"""Which labels a device or a lot prints: its sealed codes opened onto :class:`Label` values.

Labels exist while the device is on the factory's side (``registered`` or ``enrolled``);
release and decommission erase the sealed codes, and :func:`device_label` raises
``LabelsUnavailable``. A lot's sheet skips such devices and says how many it skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlmodel import Session, col, select

from enrollment import service
from enrollment.labels import Label
from enrollment.qr import LabelKind
from enrollment.sealing import SecretKeys
from enrollment.service_errors import LabelsUnavailable, UnknownDevice
from enrollment.tables import DeviceRow

__all__ = ["LotSheet", "device_label", "lot_sheet"]


def device_label(device: DeviceRow, kind: LabelKind, *, keys: SecretKeys) -> Label:
    """The device's label of ``kind``: the device label carries the MAC address too.

    Raises:
        LabelsUnavailable: the device left the factory (codes erased).
        SealError: the sealed codes do not open (the platform secret changed).
    """
    codes = service.label_codes(device, keys=keys)
    if kind is LabelKind.DEVICE:
        return Label(kind, device.serial, codes.device, device.mac)
    return Label(kind, device.serial, codes.packaging)


@dataclass(frozen=True, slots=True)
class LotSheet:
    """The labels of a range of a lot's devices (device and packaging label side by side)."""

    labels: list[Label]
    skipped: int
    """Devices of the range whose labels are gone."""


def lot_sheet(session: Session, lot: str, *, keys: SecretKeys, offset: int, limit: int) -> LotSheet:
    """The labels of the lot's devices ``offset`` to ``offset + limit`` in serial order; no
    labels at all when every device of the range left the factory.

    Raises:
        UnknownDevice: the lot has no devices.
        SealError: a device's sealed codes do not open.
    """
    devices = session.exec(
        select(DeviceRow)
        .where(DeviceRow.lot == lot)
        .order_by(col(DeviceRow.serial))
        .offset(offset)
        .limit(limit)
    ).all()
    if not devices and not session.exec(select(exists().where(col(DeviceRow.lot) == lot))).one():
        raise UnknownDevice(f"lot {lot}")
    labels: list[Label] = []
    skipped = 0
    for device in devices:
        try:
            codes = service.label_codes(device, keys=keys)
        except LabelsUnavailable:
            skipped += 1
            continue
        labels.append(Label(LabelKind.DEVICE, device.serial, codes.device, device.mac))
        labels.append(Label(LabelKind.PACKAGING, device.serial, codes.packaging))
    return LotSheet(labels, skipped)
