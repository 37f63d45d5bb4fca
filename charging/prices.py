"""Prices over time: the contract between tariffs (what energy costs when) and the planner.

A tariff turns into :class:`PriceSlot` s: half-open intervals ``[start, end)`` in UTC, each with
one price per kWh in the tariff's currency, VAT included. Slots handed to the planner are
sorted, do not overlap and leave no gap over the horizon asked for. Prices may be negative (a
day-ahead market pays for taking energy then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: datetime
    end: datetime
    price_per_kwh: Decimal

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("price slots are in aware (UTC) time")
        if not self.start < self.end:
            raise ValueError(f"a price slot must end after it starts ({self.start}..{self.end})")

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600
