"""The charging core's errors.

ChargingError
├── UnknownStation        no station with this id
├── StationExists         the id is taken
├── InvalidStationId      empty, longer than 48 characters, or not a URL path segment
├── InvalidStationPassword  not 16-40 characters (OCPP 2.0.1 A00, 1.6 Security Whitepaper)
├── ProfileDowngrade      a security profile may only be raised
├── UnknownIdToken / IdTokenExists
├── NotVisible            a card or charging session that is not there for this user
├── NotAllowed            the user's role on their stations does not allow this
├── Conflict              the state forbids it (``slug``: ``card-taken``)
└── TariffError           a tariff or price series breaks a rule (``field`` names the part)
    └── DayAheadRowsInvalid  rows of an uploaded price series (``rows``: number + message)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ChargingError(Exception):
    """Root of the charging core's errors."""


class UnknownStation(ChargingError):
    def __init__(self, station_id: str) -> None:
        super().__init__(f"unknown station {station_id!r}")
        self.station_id = station_id


class StationExists(ChargingError):
    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id!r} already exists")
        self.station_id = station_id


class InvalidStationId(ChargingError):
    """A station id must fit the OCPP identity (1-48 printable characters, no ``/``)."""


class InvalidStationPassword(ChargingError):
    """The password breaks the 16-40 character rule."""


class ProfileDowngrade(ChargingError):
    def __init__(self, current: int, requested: int) -> None:
        super().__init__(
            f"security profile {current} may not be lowered to {requested}"
            if requested < current
            else f"security profile must be 1, 2 or 3, not {requested}"
        )
        self.current = current
        self.requested = requested


class UnknownIdToken(ChargingError):
    def __init__(self, value: str) -> None:
        super().__init__(f"unknown id token {value!r}")


class IdTokenExists(ChargingError):
    def __init__(self, value: str) -> None:
        super().__init__(f"id token {value!r} already exists")


class NotVisible(ChargingError):  # noqa: N818
    """Not there for this user, who learns nothing more (the app answers 404)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class NotAllowed(ChargingError):  # noqa: N818
    def __init__(self, detail: str = "your role on this station does not allow this") -> None:
        super().__init__(detail)


class Conflict(ChargingError):  # noqa: N818
    def __init__(self, slug: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.extensions: dict[str, Any] = extensions


class TariffError(ChargingError):
    """A tariff, a window or a price series breaks a rule; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with row ``row`` of an upload (numbered as ``charging.day_ahead`` says)."""

    row: int
    message: str


class DayAheadRowsInvalid(TariffError):  # noqa: N818
    """Rows of a day-ahead upload that could not be read, all of them at once."""

    def __init__(self, rows: tuple[RowError, ...]) -> None:
        shown = "; ".join(f"row {r.row}: {r.message}" for r in rows[:5])
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        super().__init__("day_ahead", shown + more)
        self.rows = rows
