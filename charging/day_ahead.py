"""Day-ahead price series: slots of 15 or 60 minutes with a price each, and their uploads.

A series is what a market or an energy supplier publishes for the next day(s): one net price per
kWh (without VAT, in the tariff's currency, negative allowed) for each slot. Where a series has a
price, it wins over the tariff's windows and base price (:mod:`charging.tariffs`).

Uploads come as JSON (a list of ``{"start", "price"}`` or ``{"start", "end", "price"}``
objects) or CSV (header ``start,price`` or ``start,end,price``). Times are ISO 8601 with a UTC
offset (``2026-03-29T00:00:00+01:00`` or ``...Z``); a time without one is refused, since it
would be read differently on each side of a DST change. Without ``end``, every slot lasts the
distance between the first two starts (or ``slot_minutes``). Every row is checked and all bad
rows are reported at once (:class:`~charging.errors.DayAheadRowsInvalid`), numbered as a person
finds them: the n-th object of the JSON list is row n, a CSV row is its line number (the header
is line 1). Rows may come in any order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from charging.errors import DayAheadRowsInvalid, RowError, TariffError

SLOT_MINUTES = (15, 60)
MAX_UPLOAD_BYTES = 512_000
MAX_SLOTS = 35 * 96  # five weeks of 15-minute slots


@dataclass(frozen=True, slots=True)
class SeriesSlot:
    """``[start, end)`` in UTC at ``price_per_kwh`` (net, without VAT)."""

    start: datetime
    end: datetime
    price_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class DayAheadSeries:
    """Sorted, gapless, non-overlapping slots, all 15 or all 60 minutes long.

    Raises:
        TariffError: (field ``day_ahead``) empty, too long, naive times, mixed or unsupported
            lengths, slots out of order, overlapping or leaving a gap.
    """

    slots: tuple[SeriesSlot, ...]

    def __post_init__(self) -> None:
        if not self.slots:
            raise TariffError("day_ahead", "a price series needs at least one slot")
        if len(self.slots) > MAX_SLOTS:
            raise TariffError("day_ahead", f"at most {MAX_SLOTS} slots, got {len(self.slots)}")
        length = self.slots[0].end - self.slots[0].start
        if length not in {timedelta(minutes=m) for m in SLOT_MINUTES}:
            raise TariffError("day_ahead", f"slots last 15 or 60 minutes, not {length}")
        previous: SeriesSlot | None = None
        for slot in self.slots:
            if slot.start.tzinfo is None or slot.end.tzinfo is None:
                raise TariffError("day_ahead", f"slot {slot.start} has no UTC offset")
            if slot.end - slot.start != length:
                raise TariffError(
                    "day_ahead",
                    f"all slots must last {length}; the one at {slot.start} lasts "
                    f"{slot.end - slot.start}",
                )
            if not slot.price_per_kwh.is_finite():
                raise TariffError("day_ahead", f"the price at {slot.start} is not a number")
            if previous is not None:
                if slot.start < previous.end:
                    raise TariffError(
                        "day_ahead",
                        f"the slot at {slot.start} overlaps the one at {previous.start}",
                    )
                if slot.start > previous.end:
                    raise TariffError("day_ahead", f"gap between {previous.end} and {slot.start}")
            previous = slot

    @property
    def start(self) -> datetime:
        return self.slots[0].start

    @property
    def end(self) -> datetime:
        return self.slots[-1].end

    @property
    def slot_length(self) -> timedelta:
        return self.slots[0].end - self.slots[0].start


def series(rows: Sequence[tuple[datetime, datetime, Decimal]]) -> DayAheadSeries:
    """A series from ``(start, end, price)`` rows in any order, times converted to UTC."""
    slots = sorted(
        (SeriesSlot(s.astimezone(UTC), e.astimezone(UTC), p) for s, e, p in rows),
        key=lambda slot: slot.start,
    )
    for slot in slots:
        if slot.start.tzinfo is None:
            raise TariffError("day_ahead", f"slot {slot.start} has no UTC offset")
    return DayAheadSeries(tuple(slots))


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    start: datetime
    end: datetime | None
    price: Decimal


def parse_json(text: str | bytes, *, slot_minutes: int | None = None) -> DayAheadSeries:
    """A series from a JSON list of ``{start, price}`` or ``{start, end, price}`` objects.

    Prices may be JSON numbers or strings (``"0.1234"``; strings keep every digit).

    Raises:
        DayAheadRowsInvalid: rows that could not be read.
        TariffError: the upload as a whole is wrong (too big, not a list, series rules).
    """
    _check_size(text)
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, RecursionError) as exc:
        raise TariffError("day_ahead", f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise TariffError("day_ahead", "expected a JSON list of slots")
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, "expected an object with start and price"))
            continue
        unknown = set(item) - {"start", "end", "price"}
        if unknown:
            errors.append(RowError(number, f"unknown keys {sorted(unknown)}"))
            continue
        _read_row(number, item.get("start"), item.get("end"), item.get("price"), rows, errors)
    return _finish(rows, errors, slot_minutes)


def parse_csv(text: str | bytes, *, slot_minutes: int | None = None) -> DayAheadSeries:
    """A series from CSV with header ``start,price`` or ``start,end,price``.

    Raises:
        DayAheadRowsInvalid: rows that could not be read (numbered by line).
        TariffError: the upload as a whole is wrong (too big, bad header, series rules).
    """
    _check_size(text)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TariffError("day_ahead", "CSV must be UTF-8") from None
    try:
        rows, errors = _read_csv(text.lstrip("\ufeff"))
    except csv.Error as exc:
        raise TariffError("day_ahead", f"not CSV: {exc}") from None
    return _finish(rows, errors, slot_minutes)


def _read_csv(text: str) -> tuple[list[_Row], list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header not in (["start", "price"], ["start", "end", "price"]):
        raise TariffError("day_ahead", "the CSV header must be start,price or start,end,price")
    rows: list[_Row] = []
    errors: list[RowError] = []
    for cells in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(RowError(number, f"expected {len(header)} columns, got {len(cells)}"))
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        _read_row(number, values["start"], values.get("end"), values["price"], rows, errors)
    return rows, errors


def _check_size(text: str | bytes) -> None:
    if len(text) > MAX_UPLOAD_BYTES:
        raise TariffError("day_ahead", f"an upload holds at most {MAX_UPLOAD_BYTES} bytes")


def _read_row(
    number: int,
    start: object,
    end: object,
    price: object,
    rows: list[_Row],
    errors: list[RowError],
) -> None:
    problems: list[str] = []
    start_at = _instant(start, "start", problems)
    end_at = None if end is None or end == "" else _instant(end, "end", problems)
    value = _price(price, problems)
    if start_at is not None and end_at is not None and end_at <= start_at:
        problems.append("end must be after start")
    if problems:
        errors.append(RowError(number, "; ".join(problems)))
    elif start_at is not None and value is not None:
        rows.append(_Row(number, start_at, end_at, value))


def _instant(value: object, name: str, problems: list[str]) -> datetime | None:
    if not isinstance(value, str) or not value:
        problems.append(f"{name} is missing")
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"{name} {value[:40]!r} is not an ISO 8601 time")
        return None
    if at.tzinfo is None:
        problems.append(f"{name} {value[:40]!r} needs a UTC offset (e.g. +01:00 or Z)")
        return None
    return at.astimezone(UTC)


def _price(value: object, problems: list[str]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        problems.append("price is missing" if value is None else "price must be a number")
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        problems.append(f"price {str(value)[:40]!r} is not a number")
        return None
    if not price.is_finite():
        problems.append("price must be a finite number")
        return None
    return price


def _finish(rows: list[_Row], errors: list[RowError], slot_minutes: int | None) -> DayAheadSeries:
    if len(rows) + len(errors) > MAX_SLOTS:
        raise TariffError("day_ahead", f"at most {MAX_SLOTS} slots")
    if errors:
        raise DayAheadRowsInvalid(tuple(errors))
    if not rows:
        raise TariffError("day_ahead", "the upload holds no slots")
    length = _slot_length(rows, slot_minutes)
    return series([(r.start, r.end or r.start + length, r.price) for r in rows])


def _slot_length(rows: list[_Row], slot_minutes: int | None) -> timedelta:
    if slot_minutes is not None:
        if slot_minutes not in SLOT_MINUTES:
            raise TariffError("slot_minutes", "slots last 15 or 60 minutes")
        return timedelta(minutes=slot_minutes)
    with_end = [r for r in rows if r.end is not None]
    if with_end:
        return with_end[0].end - with_end[0].start  # type: ignore[operator]
    starts = sorted({r.start for r in rows})
    if len(starts) < 2:
        raise TariffError("slot_minutes", "one slot without an end: say how long slots last")
    return starts[1] - starts[0]
