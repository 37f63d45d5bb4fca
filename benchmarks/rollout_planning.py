"""Planning a rollout over a large fleet: time, and peak memory against a materialising baseline.

The source is a re-iterable fleet whose ``__iter__`` makes candidates one at a time, as a
server-side cursor over the devices would (two families, three channels, four firmware
versions, ten lots). The policy selects one family's stable channel below 2.0.0 with a 50%
hashed sample, in percentage waves (1, 10, 50, 100), so ``assign`` makes two passes: one that
counts, one that assigns. The consumer keeps only a count per wave. "source only" is two
passes over the source doing nothing: the share of the time that is the rows themselves;
"total given" is one pass with ``total=`` taken from a count, as a ``COUNT`` query gives it.

- **streaming**: ``assign(fleet, ...)``, as the service runs it;
- **baseline**: the same assignment after materialising the candidates in a list and
  collecting the result in a list (what loading all devices first costs).

Time is measured without tracemalloc (it slows allocation several fold); peak memory is
measured in separate runs under tracemalloc, after a tracemalloc reset, at each fleet size.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/rollout_planning.py [--sizes 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator

from firmware.rollout.model import TargetSelection, WavePlan
from firmware.rollout.planner import Candidate, assign

FAMILIES = ("fam-a", "fam-b")
CHANNELS = ("stable", "stable", "beta", "canary")
VERSIONS = ("1.4.0", "1.4.2", "1.5.0-rc.1", "2.0.0")
SELECTION = TargetSelection("fam-a", channel="stable", below_version="2.0.0", sample_percent=50.0)
PLAN = WavePlan("percent", percents=(1, 10, 50, 100))


class Fleet:
    """``n`` devices, made on each iteration (a re-runnable query)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[Candidate]:
        for i in range(self.n):
            yield Candidate(
                f"CP-{i:08d}",
                FAMILIES[i % 2],
                CHANNELS[(i // 2) % 4],
                VERSIONS[(i // 8) % 4],
                f"lot-{(i // 1000) % 10}",
            )


def streaming(n: int) -> Counter[int]:
    waves: Counter[int] = Counter()
    for _, wave in assign(Fleet(n), SELECTION, PLAN):
        waves[wave] += 1
    return waves


def one_pass(n: int) -> Counter[int]:
    """``assign`` with the total given (as from a ``COUNT`` query): one pass over the source."""
    total = TOTALS[n]
    waves: Counter[int] = Counter()
    for _, wave in assign(iter(Fleet(n)), SELECTION, PLAN, total=total):
        waves[wave] += 1
    return waves


TOTALS: dict[int, int] = {}


def source_only(n: int) -> Counter[int]:
    """Two passes over the source doing nothing: what the rows cost before any planning."""
    seen: Counter[int] = Counter()
    for _ in range(2):
        for _candidate in Fleet(n):
            seen[0] += 1
    return seen


def baseline(n: int) -> Counter[int]:
    candidates = list(Fleet(n))
    pairs = list(assign(candidates, SELECTION, PLAN))
    return Counter(wave for _, wave in pairs)


Work = Callable[[int], Counter[int]]


def timed(work: Work, n: int) -> tuple[float, Counter[int]]:
    start = time.perf_counter()
    result = work(n)
    return time.perf_counter() - start, result


def peak(work: Work, n: int) -> float:
    """Peak traced memory of ``work(n)`` in MiB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    work(n)
    _, high = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return high / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}")
    print(
        "| devices | selected | waves | streaming s | devices/s | total given s | source only s "
        "| baseline s | "
        "streaming peak MiB | baseline peak MiB | baseline/streaming memory |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        seconds, waves = timed(streaming, n)
        base_seconds, base_waves = timed(baseline, n)
        source_seconds, _ = timed(source_only, n)
        TOTALS[n] = sum(waves.values())
        one_seconds, one_waves = timed(one_pass, n)
        assert one_waves == waves, "the one-pass plan differs"
        assert waves == base_waves, "the two plans differ"
        stream_mib, base_mib = peak(streaming, n), peak(baseline, n)
        sizes = [waves[i] for i in range(len(waves))]
        print(
            f"| {n:,} | {sum(sizes):,} | {sizes} | {seconds:.2f} | {n / seconds:,.0f} | "
            f"{one_seconds:.2f} | {source_seconds:.2f} | {base_seconds:.2f} | "
            f"{stream_mib:.3f} | {base_mib:.1f} | "
            f"{base_mib / stream_mib:,.0f}x |"
        )


if __name__ == "__main__":
    main()
