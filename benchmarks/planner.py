"""Plans per second for a 24-hour horizon in 15-minute slots (96 slots), both modes.

Prices are a day-ahead shape (cheap at night and at midday, dear in the evening) with a little
noise, so ties are rare; each request asks for 20 kWh at 16 A on three phases by the end of
the horizon, from a "now" a few minutes into the first slot. The baseline, measured in the
same run, is sorting the 96 slots by price: the least any cheapest-first planner does, so the
ratio says how much more than that one plan costs.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/planner.py [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from charging.planner import Plan, PlanMode, PlanRequest, plan_charging
from charging.prices import PriceSlot

START = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)


def day_ahead(seed: int) -> list[PriceSlot]:
    rng = random.Random(seed)
    slots = []
    for i in range(96):
        hour = i / 4
        shape = 0.22 + 0.08 * math.sin((hour - 12) / 24 * 2 * math.pi) + rng.uniform(-0.02, 0.02)
        start = START + timedelta(minutes=15 * i)
        price = Decimal(f"{shape:.4f}")
        slots.append(PriceSlot(start, start + timedelta(minutes=15), price))
    return slots


def rate(work: Callable[[], object], seconds: float) -> float:
    done = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(20):
            work()
        done += 20
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    prices = day_ahead(13)
    requests = {
        mode: PlanRequest(
            now=START + timedelta(minutes=7),
            prices=prices,
            energy_kwh=20.0,
            departure=START + timedelta(hours=24),
            station_max_current_a=16.0,
            mode=mode,
        )
        for mode in PlanMode
    }
    for req in requests.values():
        assert isinstance(plan_charging(req), Plan)
    baseline = rate(lambda: sorted(prices, key=lambda s: s.price_per_kwh), args.seconds)
    print(f"python {platform.python_version()}, 96 slots of 15 minutes, 20 kWh at 11.0 kW")
    print(f"{'baseline: sort 96 slots':<28} {baseline:>10,.0f} /s")
    for mode, req in requests.items():
        plans = rate(lambda req=req: plan_charging(req), args.seconds)
        print(f"{'plan ' + mode.value:<28} {plans:>10,.0f} /s   {baseline / plans:6.1f}x baseline")


if __name__ == "__main__":
    main()
