"""Local wall-clock times to instants, with one deliberate rule for DST transitions.

Tariff windows are written in local time ("22:00-06:00 in Europe/Berlin"); prices are slots in
UTC. A local time turns into the **earliest instant whose wall-clock reading is at or after it**:

* an ambiguous time (the clocks go back, 02:30 happens twice on 2026-10-25 in Berlin) is its
  first occurrence (``fold=0``, summer time): a window 02:00-03:00 that day lasts two real hours;
* a time that does not exist (the clocks jump from 02:00 to 03:00 on 2026-03-29 in Berlin) is the
  instant of the jump: a window 02:00-03:00 that day is empty, 02:30-04:00 lasts one hour.

The mapping never goes backwards in time, so local windows that do not overlap never overlap as
instants either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of naive local time ``local`` in ``zone``, by the module's rule."""
    if local.tzinfo is not None:
        raise ValueError("local_to_utc takes a naive local time")
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap: fold=0 reads it with the offset before the jump, fold=1 with the one after; the
    # jump lies between the two readings. Find it to the second.
    low = min(first, local.replace(tzinfo=zone, fold=1).astimezone(UTC))
    high = max(first, local.replace(tzinfo=zone, fold=1).astimezone(UTC))
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return high
