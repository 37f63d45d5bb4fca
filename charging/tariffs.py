"""Tariffs: what a kWh costs when, as price slots for the planner and for session costs.

A :class:`Tariff` has a currency (ISO 4217), a VAT rate, a base price per kWh, time-of-use
windows (a night rate, the weekend) and optionally a day-ahead price series, all read in one
IANA time zone. **Every price a tariff holds is net (without VAT)**; what it hands out as
:class:`~charging.prices.PriceSlot` (``price_slots``, ``price_at``) is gross, VAT included, as
the planner and the driver see it. Costs (:mod:`charging.costs`) work on the net prices and add
VAT once.

Which price applies at an instant, first match wins:

1. the day-ahead slot that holds the instant;
2. the window that holds it: a window is a set of weekdays and a local start and end time;
   an end at or before the start runs into the next day (22:00-06:00 on Friday ends Saturday
   06:00), and 00:00-00:00 is the whole day, as OCPP 2.1 ``TariffConditionsType`` reads
   ``startTimeOfDay``/``endTimeOfDay``. A window belongs to the day it starts on;
3. the base price.

Local times become instants by :mod:`charging.wall_clock`: on the day the clocks go back the
repeated hour counts once, at its first pass, for a window edge; on the day they jump forward an
edge inside the gap moves to the jump (a 02:00-03:00 window that day is empty).

Windows may not overlap, also across midnight (Friday 22:00-06:00 and Saturday all day do);
negative prices are allowed. Prices in the past are fine (they price past sessions); a series
that lies entirely in the past is refused for planning by :func:`check_plannable`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from charging.currencies import is_currency
from charging.day_ahead import DayAheadSeries
from charging.errors import TariffError
from charging.prices import PriceSlot
from charging.wall_clock import local_to_utc

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
WEEKDAYS = frozenset(range(MONDAY, SATURDAY))
WEEKEND = frozenset({SATURDAY, SUNDAY})
EVERY_DAY = frozenset(range(7))
MAX_HORIZON = timedelta(days=400)

_DAY = 24 * 60
_WEEK = 7 * _DAY
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_time_of_day(text: str, field_name: str = "time") -> time:
    """``"22:00"`` to ``time(22, 0)``: 24-hour ``HH:MM`` with leading zeros (OCPP 2.1)."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        raise TariffError(field_name, f"{text[:20]!r} is not a time of day HH:MM (00:00-23:59)")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True, slots=True)
class Window:
    """On ``days`` (0 = Monday ... 6 = Sunday) from local ``start`` to ``end``: ``price_per_kwh``.

    ``price_per_kwh`` is net and replaces the base price inside the window.
    """

    days: frozenset[int]
    start: time
    end: time
    price_per_kwh: Decimal
    name: str = ""

    @property
    def minutes(self) -> int:
        """How long the window lasts on an ordinary day, in minutes (1 to 1440)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return end - start if end > start else end - start + _DAY

    def week_intervals(self) -> list[tuple[int, int]]:
        """The minutes of the week (Monday 00:00 = 0) it covers, as ``[from, to)`` pairs."""
        start = self.start.hour * 60 + self.start.minute
        intervals: list[tuple[int, int]] = []
        for day in sorted(self.days):
            begin = day * _DAY + start
            finish = begin + self.minutes
            if finish <= _WEEK:
                intervals.append((begin, finish))
            else:  # Sunday night runs into Monday morning
                intervals += [(begin, _WEEK), (0, finish - _WEEK)]
        return intervals


@dataclass(frozen=True, slots=True)
class Tariff:
    """A currency, VAT, a net base price per kWh, windows and a day-ahead series in one zone.

    Raises:
        TariffError: ``field`` is ``currency``, ``vat_rate``, ``base_price_per_kwh``,
            ``time_zone``, ``windows[i]`` or ``day_ahead``.
    """

    currency: str
    vat_rate: Decimal
    base_price_per_kwh: Decimal
    time_zone: str
    windows: tuple[Window, ...] = ()
    day_ahead: DayAheadSeries | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_currency(self.currency):
            raise TariffError("currency", f"{self.currency[:10]!r} is not an ISO 4217 currency")
        if not self.vat_rate.is_finite() or not Decimal(0) <= self.vat_rate < 1:
            raise TariffError("vat_rate", "VAT is a rate from 0 to below 1 (0.19 for 19 %)")
        if not self.base_price_per_kwh.is_finite():
            raise TariffError("base_price_per_kwh", "the base price must be a number")
        object.__setattr__(self, "_zone", _zone(self.time_zone))
        for index, window in enumerate(self.windows):
            _check_window(window, f"windows[{index}]")
        _check_overlaps(self.windows)
        if self.day_ahead is not None:
            _check_alignment(self.day_ahead, self._zone)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def gross(self, net: Decimal) -> Decimal:
        """A net price with VAT added (not rounded)."""
        return net * (1 + self.vat_rate)


def price_slots(tariff: Tariff, start: datetime, end: datetime) -> list[PriceSlot]:
    """Gross prices (VAT included) over ``[start, end)``: sorted, gapless, non-overlapping.

    A slot ends at every window edge and every day-ahead slot edge, so each slot has one price.
    """
    return [PriceSlot(a, b, tariff.gross(net)) for a, b, net in net_segments(tariff, start, end)]


def price_at(tariff: Tariff, instant: datetime) -> Decimal:
    """The gross price per kWh (VAT included) in force at ``instant``."""
    return tariff.gross(net_price_at(tariff, instant))


def net_price_at(tariff: Tariff, instant: datetime) -> Decimal:
    """The net price per kWh in force at ``instant``."""
    _check_aware(instant, "instant")
    return net_segments(tariff, instant, instant + timedelta(seconds=1))[0][2]


def net_segments(
    tariff: Tariff, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, Decimal]]:
    """``(start, end, net price)`` pieces covering ``[start, end)`` in UTC, split at every edge."""
    _check_aware(start, "start")
    _check_aware(end, "end")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not start < end:
        raise TariffError("end", "the horizon must end after it starts")
    if end - start > MAX_HORIZON:
        raise TariffError("end", f"a horizon spans at most {MAX_HORIZON.days} days")
    windows = _occurrences(tariff, start, end)
    slots = list(tariff.day_ahead.slots) if tariff.day_ahead is not None else []
    edges = {start, end}
    edges.update(t for a, b, _ in windows for t in (a, b) if start < t < end)
    edges.update(t for s in slots for t in (s.start, s.end) if start < t < end)
    cuts = sorted(edges)
    window_starts = [a for a, _, _ in windows]
    slot_starts = [s.start for s in slots]
    pieces: list[tuple[datetime, datetime, Decimal]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        pieces.append((a, b, _net_at(tariff, a, windows, window_starts, slot_starts)))
    return pieces


def check_plannable(tariff: Tariff, *, now: datetime) -> None:
    """Refuse a tariff whose day-ahead series lies entirely before ``now`` for planning.

    Such a series prices past sessions correctly but says nothing about the hours ahead; a
    plan built on it would silently fall back to the windows.
    """
    _check_aware(now, "now")
    if tariff.day_ahead is not None and tariff.day_ahead.end <= now:
        raise TariffError(
            "day_ahead",
            f"every price of the series is in the past (it ended "
            f"{tariff.day_ahead.end.isoformat()}): upload the coming prices",
        )


def _net_at(
    tariff: Tariff,
    at: datetime,
    windows: list[tuple[datetime, datetime, Decimal]],
    window_starts: list[datetime],
    slot_starts: list[datetime],
) -> Decimal:
    if tariff.day_ahead is not None:
        index = bisect.bisect_right(slot_starts, at) - 1
        if index >= 0 and at < tariff.day_ahead.slots[index].end:
            return tariff.day_ahead.slots[index].price_per_kwh
    index = bisect.bisect_right(window_starts, at) - 1
    if index >= 0 and at < windows[index][1]:
        return windows[index][2]
    return tariff.base_price_per_kwh


def _occurrences(
    tariff: Tariff, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, Decimal]]:
    """Every window as instants, for the local days around ``[start, end)``, sorted."""
    zone = tariff.zone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    found: list[tuple[datetime, datetime, Decimal]] = []
    day = first
    while day <= last:
        for window in tariff.windows:
            if day.weekday() in window.days:
                a, b = _window_on(window, day, zone)
                if a < b and a < end and start < b:
                    found.append((a, b, window.price_per_kwh))
        day += timedelta(days=1)
    found.sort(key=lambda item: item[0])
    return found


def _window_on(window: Window, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    begin = datetime.combine(day, window.start)
    finish = begin + timedelta(minutes=window.minutes)  # wall clock, not elapsed time
    return local_to_utc(begin, zone), local_to_utc(finish, zone)


def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise TariffError("time_zone", f"{key[:60]!r} is not an IANA time zone") from None


def _check_window(window: Window, name: str) -> None:
    if not window.days or not window.days <= EVERY_DAY:
        raise TariffError(name, "days are a non-empty set of 0 (Monday) to 6 (Sunday)")
    for edge, value in (("start", window.start), ("end", window.end)):
        if value.tzinfo is not None:
            raise TariffError(f"{name}.{edge}", "a window's times are local, without a zone")
        if value.second or value.microsecond:
            raise TariffError(f"{name}.{edge}", "a window starts and ends on a whole minute")
    if not window.price_per_kwh.is_finite():
        raise TariffError(f"{name}.price_per_kwh", "the price must be a number")


def _check_overlaps(windows: tuple[Window, ...]) -> None:
    taken: list[tuple[int, int, int]] = []
    for index, window in enumerate(windows):
        for begin, finish in window.week_intervals():
            for other_begin, other_finish, other in taken:
                if other != index and begin < other_finish and other_begin < finish:
                    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
                    days = (*day, "Saturday", "Sunday")
                    at = max(begin, other_begin)
                    raise TariffError(
                        f"windows[{index}]",
                        f"overlaps windows[{other}] on {days[at // _DAY]} at "
                        f"{at % _DAY // 60:02d}:{at % 60:02d}",
                    )
        taken += [(b, f, index) for b, f in window.week_intervals()]


def _check_alignment(series: DayAheadSeries, zone: ZoneInfo) -> None:
    minutes = int(series.slot_length.total_seconds() // 60)
    for slot in series.slots:
        local = slot.start.astimezone(zone)
        if local.second or local.microsecond or local.minute % minutes:
            raise TariffError(
                "day_ahead",
                f"slots of {minutes} minutes start on the {minutes}-minute mark; "
                f"{local:%Y-%m-%d %H:%M:%S%z} does not",
            )


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise TariffError(name, "times must carry a UTC offset")
