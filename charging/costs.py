"""What a charging session costs, from its energy register readings and the tariff.

The readings are ``Energy.Active.Import.Register`` meter samples (Wh; see
:mod:`charging.energy` for phases and repeats). What is done with imperfect input:

* readings are sorted by time; several readings with one timestamp count once (the last one
  given, as :func:`charging.energy.totals` keeps it);
* a reading lower than the one before is a register reset (a replaced meter, a rolled-over
  counter): the interval that holds the drop counts nothing, since its energy is unknown, and
  counting goes on from the new value. The driver is never billed for a guess; ``resets`` says
  how often it happened;
* fewer than two readings cost nothing.

Each interval between two readings is priced **pro rata by time**: energy is taken to flow
evenly between two readings, so an interval from 21:50 to 22:10 across the start of a 22:00
night rate puts half its energy at each price. (Pricing the whole delta at one reading's time
would move up to a sample interval's energy, 15 minutes on 1.6 stations, to the wrong price.)

Prices are the tariff's net prices. Sums are exact (fractions); only the totals are rounded,
half up, to the currency's minor unit: ``net`` and ``vat`` each, ``gross = net + vat``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from charging.currencies import minor_unit
from charging.energy import ENERGY_REGISTER, totals
from charging.errors import TariffError
from charging.events import MeterSample
from charging.tariffs import Tariff, net_segments


@dataclass(frozen=True, slots=True)
class CostLine:
    """Energy used in ``[start, end)`` (one price slot) at its net price, and its net amount."""

    start: datetime
    end: datetime
    energy_wh: Decimal
    net_price_per_kwh: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class SessionCost:
    """A session's cost: totals rounded to the minor unit, lines not rounded."""

    currency: str
    energy_wh: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    lines: tuple[CostLine, ...]
    resets: int = 0
    net_unrounded: Decimal = Decimal(0)


def session_cost(samples: Iterable[MeterSample], tariff: Tariff) -> SessionCost:
    """Price the energy between every two register readings at the tariff in force then.

    Raises:
        TariffError: (``samples``) a reading without a UTC offset.
    """
    register = totals(samples, ENERGY_REGISTER)
    for at, _ in register:
        if at.tzinfo is None:
            raise TariffError("samples", f"reading at {at} has no UTC offset")
    intervals, resets = _intervals(register)
    if not intervals:
        return _total(tariff, [], resets)
    pieces = net_segments(tariff, intervals[0][0], intervals[-1][1])
    energy = [Fraction(0)] * len(pieces)
    index = 0
    for start, end, wh in intervals:
        while pieces[index][1] <= start:
            index += 1
        seconds = Fraction((end - start).total_seconds())
        cursor = index
        while cursor < len(pieces) and pieces[cursor][0] < end:
            a, b, _ = pieces[cursor]
            overlap = Fraction((min(b, end) - max(a, start)).total_seconds())
            energy[cursor] += wh * overlap / seconds
            cursor += 1
    lines = [(a, b, e, price) for (a, b, price), e in zip(pieces, energy, strict=True) if e != 0]
    return _total(tariff, lines, resets)


def _intervals(
    register: list[tuple[datetime, float]],
) -> tuple[list[tuple[datetime, datetime, Fraction]], int]:
    intervals: list[tuple[datetime, datetime, Fraction]] = []
    resets = 0
    for (t0, wh0), (t1, wh1) in zip(register, register[1:], strict=False):
        delta = Fraction(Decimal(repr(wh1))) - Fraction(Decimal(repr(wh0)))
        if delta < 0:
            resets += 1
        elif delta > 0:
            intervals.append((t0, t1, delta))
    return intervals, resets


def _total(
    tariff: Tariff,
    lines: list[tuple[datetime, datetime, Fraction, Decimal]],
    resets: int,
) -> SessionCost:
    net = sum((e * Fraction(price) / 1000 for _, _, e, price in lines), Fraction(0))
    unit = minor_unit(tariff.currency)
    net_rounded = _decimal(net).quantize(unit, ROUND_HALF_UP)
    vat_rounded = _decimal(net * Fraction(tariff.vat_rate)).quantize(unit, ROUND_HALF_UP)
    return SessionCost(
        currency=tariff.currency,
        energy_wh=_decimal(sum((e for _, _, e, _ in lines), Fraction(0))),
        net=net_rounded,
        vat=vat_rounded,
        gross=net_rounded + vat_rounded,
        lines=tuple(
            CostLine(a, b, _decimal(e), price, _decimal(e * Fraction(price) / 1000))
            for a, b, e, price in lines
        ),
        resets=resets,
        net_unrounded=_decimal(net),
    )


def _decimal(value: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = 34
        return Decimal(value.numerator) / Decimal(value.denominator)
