"""Errors of the factory line's services (the database-backed side of :mod:`enrollment`).

::

    EnrollmentError
    ├── UnknownFamily          a registration names a hardware family that does not exist
    ├── FamilyExists           a family name is taken
    ├── FamilyInUse            a family still has devices and cannot be deleted
    ├── MacRangeOverlap        a new MAC range overlaps one already in the pool
    ├── MacPoolEmpty           every address of every range has been handed out
    ├── UnknownDevice          no device with this serial (or in this lot)
    ├── RegistrationConflict   the serial is registered with other data (``differences``)
    ├── IdempotencyKeyReused   an Idempotency-Key already used for another serial
    └── LabelsUnavailable      the plain codes are gone (the device left the factory)
"""

from __future__ import annotations

from dataclasses import dataclass

from enrollment.errors import EnrollmentError

__all__ = [
    "Difference",
    "FamilyExists",
    "FamilyInUse",
    "IdempotencyKeyReused",
    "LabelsUnavailable",
    "MacPoolEmpty",
    "MacRangeOverlap",
    "RegistrationConflict",
    "UnknownDevice",
    "UnknownFamily",
]


class UnknownFamily(EnrollmentError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown hardware family {name!r}")
        self.name = name


class FamilyExists(EnrollmentError):
    def __init__(self, name: str) -> None:
        super().__init__(f"hardware family {name!r} already exists")
        self.name = name


class FamilyInUse(EnrollmentError):
    def __init__(self, name: str, devices: int) -> None:
        super().__init__(f"hardware family {name!r} still has {devices} devices")
        self.name = name
        self.devices = devices


class MacRangeOverlap(EnrollmentError):
    def __init__(self, requested: str, existing: str) -> None:
        super().__init__(f"MAC range {requested} overlaps the pool's range {existing}")
        self.requested = requested
        self.existing = existing


class MacPoolEmpty(EnrollmentError):
    def __init__(self, ranges: int, addresses: int) -> None:
        super().__init__(
            f"MAC pool exhausted: all {addresses} addresses of {ranges} ranges are taken; "
            "an admin must add a range"
        )
        self.ranges = ranges
        self.addresses = addresses


class UnknownDevice(EnrollmentError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


@dataclass(frozen=True, slots=True)
class Difference:
    """One field where a repeated registration disagrees with the registered device."""

    field: str
    registered: object
    requested: object


class RegistrationConflict(EnrollmentError):
    def __init__(self, serial: str, differences: list[Difference]) -> None:
        names = ", ".join(difference.field for difference in differences)
        super().__init__(f"serial {serial} is already registered with a different {names}")
        self.serial = serial
        self.differences = differences


class IdempotencyKeyReused(EnrollmentError):
    def __init__(self, key: str, serial: str) -> None:
        super().__init__(f"Idempotency-Key {key[:60]!r} was used to register {serial}")
        self.key = key
        self.serial = serial


class LabelsUnavailable(EnrollmentError):
    def __init__(self, serial: str, state: str) -> None:
        super().__init__(
            f"device {serial} is {state}; its codes were erased when it left the factory, "
            "so its labels can no longer be printed"
        )
        self.serial = serial
        self.state = state
