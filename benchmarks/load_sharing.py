"""Site recompute time: 1,000 stations on one site, every one with an active session.

The site mixes three-phase (two thirds) and single-phase stations spread over L1-L3, two
priorities, maximum currents of 16 or 32 A and minimums of 6 or 8 A (seeded random). Three
site limits: "tight" (many sessions wait for their minimum), "binding" (everyone charges, the
limit decides the shares) and "loose" (every station gets its maximum).

- **allocate**: :func:`charging.load_sharing.allocate`, as a recompute runs it, plus the
  ramp (:func:`charging.load_ramp.ramp`) that turns the targets into what is pushed;
- **input only** (baseline): one pass that looks up each session's station and sums its
  minimum on its phases, the floor any recompute pays;
- **naive** (baseline): the textbook progressive filling, raising a water level by 0.1 A per
  round and every unblocked session with it, until its phase or its maximum stops it; the
  last column is the largest difference between its shares and ``allocate``'s (both round to 0.1 A).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/load_sharing.py [--stations 1000] [--repeats 30]``.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from charging.load_ramp import Pushed, RampPolicy, ramp
from charging.load_sharing import (
    PHASES,
    ActiveSession,
    Site,
    SiteLimit,
    SiteStation,
    allocate,
)

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def make_site(n: int, limit: float) -> tuple[Site, list[ActiveSession]]:
    rng = random.Random(13)
    stations = [
        SiteStation(
            f"CP-{i:05d}",
            phases=3 if i % 3 else 1,
            phase=PHASES[(i // 3) % 3],
            priority=1 if rng.random() < 0.1 else 0,
            min_current=rng.choice((6.0, 6.0, 6.0, 8.0)),
            max_current=rng.choice((16.0, 32.0)),
        )
        for i in range(n)
    ]
    order = [s.station_id for s in stations]
    rng.shuffle(order)
    sessions = [ActiveSession(f"tx-{sid}", sid) for sid in order]
    return Site.of(SiteLimit.per_phase(limit), stations), sessions


def input_only(site: Site, sessions: list[ActiveSession]) -> None:
    load = dict.fromkeys(PHASES, 0.0)
    for session in sessions:
        station = site.station(session.station_id)
        for phase in station.site_phases:
            load[phase] += station.min_current


def naive(site: Site, sessions: list[ActiveSession]) -> dict[str, float]:
    load = dict.fromkeys(PHASES, 0.0)
    current: dict[str, float] = {}
    for session in sorted(sessions, key=lambda s: -site.station(s.station_id).priority):
        station = site.station(session.station_id)
        if all(load[p] + station.min_current <= site.limit.on(p) for p in station.site_phases):
            current[session.session_id] = station.min_current
            for p in station.site_phases:
                load[p] += station.min_current
    for priority in (1, 0):
        rising = {
            sid: site.station(sid[3:])
            for sid in current
            if site.station(sid[3:]).priority == priority
        }
        level = min((current[sid] for sid in rising), default=0.0)
        while rising:
            level += 0.1
            step = {
                sid: max(current[sid], min(level, st.max_current)) for sid, st in rising.items()
            }
            extra = dict.fromkeys(PHASES, 0.0)
            for sid, station in rising.items():
                for p in station.site_phases:
                    extra[p] += step[sid] - current[sid]
            over = [p for p in PHASES if load[p] + extra[p] > site.limit.on(p) + 1e-9]
            if over:  # the phase that fills first freezes its sessions; retry this level
                full = {min(over, key=lambda p: (site.limit.on(p) - load[p]) / extra[p])}
                rising = {
                    sid: st for sid, st in rising.items() if not full.intersection(st.site_phases)
                }
                level -= 0.1
                continue
            for sid, station in list(rising.items()):
                for p in station.site_phases:
                    load[p] += step[sid] - current[sid]
                current[sid] = step[sid]
                if current[sid] >= station.max_current:
                    del rising[sid]
    return current


def measured(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    n = args.stations
    print(f"python {platform.python_version()}, {n} stations, {args.repeats} repeats, ms")
    print(
        "| limit per phase | waiting | allocate + ramp p50 | p95 | input only p50 | naive p50 "
        "| largest difference to naive, A |"
    )
    print("|---|---|---|---|---|---|---|")
    policy = RampPolicy()
    for name, limit in (("tight", n * 3.0), ("binding", n * 12.0), ("loose", n * 30.0)):
        site, sessions = make_site(n, limit)
        result = allocate(site, sessions)
        previous = ramp(Pushed(), result.currents, policy=policy, now=NOW)

        def recompute(
            site: Site = site, sessions: list[ActiveSession] = sessions, previous: Pushed = previous
        ) -> None:
            targets = allocate(site, sessions).currents
            ramp(previous, targets, policy=policy, now=NOW)

        p50, p95 = measured(recompute, args.repeats)
        base, _ = measured(lambda s=site, t=sessions: input_only(s, t), args.repeats)
        slow, _ = measured(lambda s=site, t=sessions: naive(s, t), max(3, args.repeats // 10))
        reference = naive(site, sessions)
        gap = max(abs(a - reference.get(sid, 0.0)) for sid, a in result.currents.items())
        print(
            f"| {name} ({limit:.0f} A) | {len(result.waiting)} | {p50:.1f} | {p95:.1f} "
            f"| {base:.2f} | {slow:.0f} | {gap:.2f} |"
        )


if __name__ == "__main__":
    main()
