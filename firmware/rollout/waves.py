"""Wave sizes, a wave's counts, and the verdict on a wave.

The verdict follows hawkBit's group conditions and AWS IoT Jobs' abort criteria: failure
criteria first (a share of finished targets per failure kind, only once a minimum sample has
finished), then the success condition once every target of the wave has settled, then the
health gate over the soak time (Argo Rollouts' analysis: rates per station-hour against the
previous version's, by a margin).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from firmware.rollout.messages import HealthSample
from firmware.rollout.policy import FailureCriterion, HealthGate, RolloutPolicy, WavePlan
from firmware.rollout.states import FINAL_TARGET_STATES, FailureKind, TargetState

# -- sizes -----------------------------------------------------------------------------------


def next_size(plan: WavePlan, size: int, since_raise: int) -> tuple[int, int]:
    """The exponential rate's step: ``(next wave's size, successes counted since the raise)``
    after a wave of ``size`` whose successes brought the count to ``since_raise``."""
    if since_raise < plan.raise_after:
        return size, since_raise
    raised = math.ceil(size * plan.factor)
    if plan.max_size is not None:
        raised = min(raised, plan.max_size)
    return max(raised, size), 0


def iter_sizes(plan: WavePlan, total: int | None = None) -> Iterator[int]:
    """The wave sizes in order, each assuming the waves before it succeeded in full.

    Without ``total`` (fixed and exponential plans only) the sequence is endless; with it the
    sizes are cut to sum to ``total`` exactly.
    """
    if plan.kind == "percent":
        if total is None:
            raise ValueError("a percent plan needs the total")
        yield from _percent_sizes(plan, total)
        return
    remaining = math.inf if total is None else total
    for size in _raw_sizes(plan):  # pragma: no branch (endless)
        if remaining <= 0:
            return
        step = int(min(size, remaining))
        remaining -= step
        yield step


def _raw_sizes(plan: WavePlan) -> Iterator[int]:
    if plan.kind == "fixed":
        yield from plan.sizes
        while True:
            yield plan.sizes[-1]
    size, since_raise = min(plan.base, plan.max_size or plan.base), 0
    while True:
        yield size
        size, since_raise = next_size(plan, size, since_raise + size)


def _percent_sizes(plan: WavePlan, total: int) -> Iterator[int]:
    previous = 0
    for share in (*plan.percents, 100.0):
        reached = min(total, math.ceil(total * Fraction(str(share)) / 100))
        if reached > previous:
            yield reached - previous
            previous = reached


def plan_sizes(total: int, plan: WavePlan) -> list[int]:
    """Exact wave sizes for ``total`` targets: positive, summing to ``total``."""
    if total < 0:
        raise ValueError("total must not be negative")
    return list(iter_sizes(plan, total))


def preview(total: int, plan: WavePlan) -> list[int]:
    """The waves a plan makes, assuming every station succeeds (what the planner assigns)."""
    return plan_sizes(total, plan)


# -- counts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveCounts:
    """How many targets are in each state, and how many failed of each kind."""

    states: dict[TargetState, int] = field(default_factory=dict)
    failures: dict[FailureKind, int] = field(default_factory=dict)

    @classmethod
    def of(cls, targets: Iterable[tuple[TargetState, FailureKind | None]]) -> WaveCounts:
        """Count ``(state, failure)`` pairs."""
        states: Counter[TargetState] = Counter()
        failures: Counter[FailureKind] = Counter()
        for state, failure in targets:
            states[state] += 1
            if state is TargetState.FAILED and failure is not None:
                failures[failure] += 1
        return cls(dict(states), dict(failures))

    def state(self, state: TargetState) -> int:
        return self.states.get(state, 0)

    def failed_with(self, kind: FailureKind | None) -> int:
        return self.failed if kind is None else self.failures.get(kind, 0)

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def unsettled(self) -> int:
        return sum(n for s, n in self.states.items() if s not in FINAL_TARGET_STATES)

    @property
    def succeeded(self) -> int:
        return self.state(TargetState.SUCCEEDED)

    @property
    def failed(self) -> int:
        return self.state(TargetState.FAILED)

    @property
    def decided(self) -> int:
        """Targets with a result that counts: succeeded or failed (not skipped, cancelled)."""
        return self.succeeded + self.failed

    def __add__(self, other: WaveCounts) -> WaveCounts:
        return WaveCounts(
            dict(Counter(self.states) + Counter(other.states)),
            dict(Counter(self.failures) + Counter(other.failures)),
        )

    def __sub__(self, other: WaveCounts) -> WaveCounts:
        return WaveCounts(
            dict(Counter(self.states) - Counter(other.states)),
            dict(Counter(self.failures) - Counter(other.failures)),
        )


# -- verdict ---------------------------------------------------------------------------------


class VerdictKind(StrEnum):
    CONTINUE = "continue"  # the wave is still running
    SOAK = "soak"  # settled and successful; the health gate is watching it
    ADVANCE = "advance"  # start the next wave
    COMPLETE = "complete"  # the last wave passed
    PAUSE = "pause"
    ABORT = "abort"


@dataclass(frozen=True, slots=True)
class WaveVerdict:
    kind: VerdictKind
    reason: str | None = None


CONTINUE = WaveVerdict(VerdictKind.CONTINUE)


def _stop(action: str, reason: str) -> WaveVerdict:
    return WaveVerdict(VerdictKind.ABORT if action == "abort" else VerdictKind.PAUSE, reason)


def check_criterion(criterion: FailureCriterion, totals: WaveCounts) -> str | None:
    """Why ``criterion`` fires on ``totals``, or None while it holds (or lacks its sample)."""
    sample = totals.decided
    failed = totals.failed_with(criterion.kind)
    if sample < criterion.min_sample or failed == 0:
        return None
    share = failed * 100 / sample
    if share < criterion.percent:
        return None
    what = criterion.kind.value if criterion.kind is not None else "all"
    return f"{what} failures {share:.1f}% >= {criterion.percent:g}% ({failed} of {sample} finished)"


_METRICS = (("faults", "faults"), ("reboots", "reboots"), ("failed_sessions", "failed sessions"))


def check_health(
    gate: HealthGate, baseline: HealthSample | None, observed: HealthSample
) -> str | None:
    """Why the observed rates fail the gate, or None if they pass.

    Rates are per station-hour; no baseline means the previous version's rates count as zero.
    """
    for attribute, label in _METRICS:
        seen = getattr(observed, attribute) / observed.station_hours
        before = 0.0
        if baseline is not None and baseline.station_hours > 0:
            before = getattr(baseline, attribute) / baseline.station_hours
        allowed = before * (1 + gate.margin_percent / 100)
        if seen > allowed:
            return (
                f"health: {label} {seen:.4g}/station-hour > {allowed:.4g} "
                f"(previous {before:.4g} + {gate.margin_percent:g}%)"
            )
    return None


def evaluate(
    counts: WaveCounts,
    policy: RolloutPolicy,
    *,
    soak_started_at: datetime | None,
    now: datetime,
    baseline: HealthSample | None,
    observed: HealthSample | None,
    totals: WaveCounts | None = None,
    last_wave: bool = False,
    accepted: bool = False,
) -> WaveVerdict:
    """The verdict on the current wave.

    ``counts`` are the wave's; ``totals`` the rollout's so far for the failure criteria
    (default: the wave's). ``accepted``: an admin resumed past this wave's success condition
    and health gate.
    """
    for criterion in policy.criteria:
        reason = check_criterion(criterion, counts if totals is None else totals)
        if reason is not None:
            return _stop(criterion.action, reason)
    if counts.unsettled:
        return CONTINUE
    if not accepted and counts.decided:
        share = counts.succeeded * 100 / counts.decided
        if share < policy.success_percent:
            return WaveVerdict(
                VerdictKind.PAUSE,
                f"success condition not met: {share:.1f}% < {policy.success_percent:g}%",
            )
    gate = policy.health
    if gate is not None and not accepted and counts.succeeded:
        if soak_started_at is None or now - soak_started_at < gate.soak:
            return WaveVerdict(VerdictKind.SOAK, "soaking")
        if observed is None or observed.station_hours <= 0:
            return WaveVerdict(VerdictKind.SOAK, "waiting for health figures")
        if observed.station_hours < gate.min_station_hours:
            return WaveVerdict(VerdictKind.SOAK, "too few station-hours observed")
        reason = check_health(gate, baseline, observed)
        if reason is not None:
            return _stop(gate.action, reason)
    return WaveVerdict(VerdictKind.COMPLETE if last_wave else VerdictKind.ADVANCE)
