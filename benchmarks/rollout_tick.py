"""Time per engine tick at growing fleet sizes with a fixed wave: O(wave), not O(fleet).

A fleet of N targets is planned into waves of ``--wave`` stations (fixed plan); the rollout is
moved to a wave in the middle of the fleet. One tick is what the service does each round:
ask ``targets.due`` for every target of the current wave (the first tick dispatches them all,
the later ones watch for silence), count the wave's states and failure kinds, and let
``Rollout.tick`` judge the wave.

- **engine**: the current wave's targets come from an index by wave (the service's indexed
  query on ``(rollout, wave)``), so the work is the wave's;
- **baseline**: the same tick over a flat list of the whole fleet, filtering by wave as it
  goes, as an engine that looks at every target per tick would.

Both run in the same process on the same objects, alternating, and each takes the median of
``--ticks`` ticks with the clock one minute further each time. Times are the process's CPU
time (``time.process_time``), which a busy machine disturbs less than the wall clock. The
fleet's objects are frozen out of the garbage collector once built: in the service the fleet
lives in the database, and a full collection over a million objects held only for the
benchmark would land on whichever tick triggers it.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/rollout_tick.py [--fleets 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from firmware.rollout.machine import Rollout
from firmware.rollout.model import RolloutPolicy, StationFacts, TargetSelection, WavePlan
from firmware.rollout.targets import Target, due, start
from firmware.rollout.waves import WaveCounts, plan_sizes

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
FACTS = StationFacts("any", True, False, "Europe/Berlin", "1.4.0", "2.0.1")


def build(fleet: int, wave: int) -> tuple[Rollout, list[list[Target]], list[Target]]:
    policy = RolloutPolicy(TargetSelection("fam-a"), WavePlan("fixed", sizes=(wave,)))
    sizes = plan_sizes(fleet, policy.waves)
    by_wave: list[list[Target]] = []
    flat: list[Target] = []
    for index, size in enumerate(sizes):
        first = len(flat)
        members = [Target(f"CP-{first + i:08d}", index, new_version="1.5.0") for i in range(size)]
        by_wave.append(members)
        flat.extend(members)
    rollout = Rollout(policy, tuple(sizes))
    rollout.start(T0)
    middle = len(sizes) // 2
    rollout.wave_index = middle
    for target in by_wave[middle]:
        start(target, T0)
    return rollout, by_wave, flat


def tick(rollout: Rollout, targets: Iterable[Target], now: datetime, request: list[int]) -> None:
    wave = rollout.wave_index
    pairs = []
    for target in targets:
        if target.wave != wave:
            continue
        command = due(target, FACTS, rollout.policy, now, next_request_id=request[0])
        if command is not None:
            request[0] += 1
        pairs.append((target.state, target.failure))
    rollout.tick(now, WaveCounts.of(pairs))


def measure(fleet: int, wave: int, ticks: int) -> tuple[float, float, float]:
    rollout, by_wave, flat = build(fleet, wave)
    gc.collect()
    gc.freeze()
    request = [1]
    now = T0
    tick(rollout, by_wave[rollout.wave_index], now, request)  # dispatch the wave
    dispatched = request[0] - 1
    engine: list[float] = []
    baseline: list[float] = []
    for _ in range(ticks):
        now += timedelta(minutes=1)
        began = time.process_time()
        tick(rollout, by_wave[rollout.wave_index], now, request)
        engine.append(time.process_time() - began)
        now += timedelta(minutes=1)
        began = time.process_time()
        tick(rollout, flat, now, request)
        baseline.append(time.process_time() - began)
    assert dispatched == wave and rollout.state.value == "running"
    del by_wave, flat
    gc.unfreeze()
    gc.collect()
    return statistics.median(engine), statistics.median(baseline), dispatched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleets", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--wave", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=41)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, wave {args.wave:,}")
    print("| fleet | engine ms/tick | baseline (fleet scan) ms/tick | baseline/engine |")
    print("|---|---|---|---|")
    for fleet in args.fleets:
        engine, baseline, _ = measure(fleet, args.wave, args.ticks)
        print(
            f"| {fleet:,} | {engine * 1000:.2f} | {baseline * 1000:.2f} "
            f"| {baseline / engine:.1f}x |"
        )


if __name__ == "__main__":
    main()
