"""Streaming assignment of candidate stations to waves.

``assign`` reads candidates one at a time and yields ``(station_id, wave)`` in the order it
reads them; it keeps no per-device state (the explicit station list and lots of the selection
are the only sets it holds, and they are part of the policy). The percentage sample is decided
by a hash of ``(seed, station_id)``, so the same policy picks the same stations on every run
and on every worker, without any random module state.

Fixed and exponential plans need no total: wave boundaries follow the running count.
Percentage plans do: pass ``total`` (the number of candidates the selection keeps, e.g. a
``COUNT`` with the same filter), or pass a re-iterable source (a list, or an object whose
``__iter__`` runs the query again) and ``assign`` makes two passes, the first only counting.
If the stream yields more selected candidates than ``total``, the extra ones join the last wave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import NamedTuple

from firmware.rollout.policy import TargetSelection, WavePlan
from firmware.rollout.waves import iter_sizes
from firmware.versions import VersionKey, version_key


class Candidate(NamedTuple):
    """A device as the planner sees it (a tuple: cheap to make a million of from rows)."""

    station_id: str
    family: str
    channel: str | None
    firmware_version: str | None
    lot: str | None = None


_SCALE = 1 << 64


def sample_point(seed: int, station_id: str) -> int:
    """A station's fixed point in [0, 2**64) for ``seed`` (BLAKE2b of seed and id)."""
    digest = hashlib.blake2b(f"{seed}\x00{station_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def sample_threshold(percent: float) -> int:
    """Points below this are in a ``percent`` sample."""
    return int(Fraction(str(percent)) * _SCALE / 100)


def in_sample(seed: int, station_id: str, percent: float) -> bool:
    return sample_point(seed, station_id) < sample_threshold(percent)


class Selector:
    """The selection's test for one candidate, with its sets and thresholds made once."""

    def __init__(self, selection: TargetSelection) -> None:
        self.selection = selection
        self.lots = frozenset(selection.lots)
        self.stations = frozenset(selection.stations)
        self.below: VersionKey | None = (
            None if selection.below_version is None else version_key(selection.below_version)
        )
        self.threshold = (
            None if selection.sample_percent is None else sample_threshold(selection.sample_percent)
        )

    def __call__(self, candidate: Candidate) -> bool:
        s = self.selection
        if candidate.family != s.family:
            return False
        if s.channel is not None and candidate.channel != s.channel:
            return False
        if self.stations and candidate.station_id not in self.stations:
            return False
        if self.lots and candidate.lot not in self.lots:
            return False
        if self.below is not None:
            version = candidate.firmware_version
            if version is None or version_key(version) >= self.below:
                return False
        if self.threshold is not None:
            return sample_point(s.seed, candidate.station_id) < self.threshold
        return True


def count(candidates: Iterable[Candidate], selection: TargetSelection) -> int:
    """How many candidates the selection keeps."""
    selects = Selector(selection)
    return sum(1 for candidate in candidates if selects(candidate))


def assign(
    candidates: Iterable[Candidate],
    selection: TargetSelection,
    plan: WavePlan,
    *,
    total: int | None = None,
) -> Iterator[tuple[str, int]]:
    """Yield ``(station_id, wave index)`` for every candidate the selection keeps."""
    if plan.kind == "percent" and total is None:
        if iter(candidates) is candidates:
            raise TypeError("percent waves need total= or a re-iterable source (two passes)")
        total = count(candidates, selection)
    if total is not None and total < 0:
        raise ValueError("total must not be negative")
    selects = Selector(selection)
    sizes = iter_sizes(plan, total if plan.kind == "percent" else None)
    wave, left = -1, 0
    for candidate in candidates:
        if not selects(candidate):
            continue
        if left == 0:
            step = next(sizes, None)
            if step is None:
                left = -1  # more than the total: the rest joins the last wave
            else:
                wave, left = wave + 1, step
        if left > 0:
            left -= 1
        yield candidate.station_id, max(wave, 0)
