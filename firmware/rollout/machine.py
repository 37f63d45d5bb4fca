"""The rollout: its state, its current wave, and the moves between them.

``tick`` sees only the current wave's counts (and the totals of closed waves it keeps
itself), so its work is O(1) in the fleet; the service's share is O(wave): counting the
current wave's targets and asking ``targets.due`` for each of them. Moves::

    draft --start--> running --pause / criterion--> paused --resume--> running
    running --last wave passes--> succeeded
    running --abort criterion--> failed
    running | paused --abort--> aborted
    draft | running | paused --cancel--> cancelled
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from firmware.rollout.messages import (
    CancelWaiting,
    HealthSample,
    RolloutAction,
    RolloutChanged,
    StartWave,
)
from firmware.rollout.policy import RolloutPolicy
from firmware.rollout.states import (
    FINAL_ROLLOUT_STATES,
    InvalidTransition,
    Outcome,
    RolloutState,
)
from firmware.rollout.waves import VerdictKind, WaveCounts, evaluate

R = RolloutState


@dataclass(slots=True)
class Rollout:
    """A run of a policy over planned waves (``wave_sizes``, from the planner's preview)."""

    policy: RolloutPolicy
    wave_sizes: tuple[int, ...]
    state: RolloutState = RolloutState.DRAFT
    wave_index: int = -1  # the current wave; -1 before the start
    reason: str | None = None  # why it paused or stopped
    outcome: Outcome | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    wave_started_at: datetime | None = None
    soak_started_at: datetime | None = None
    closed: WaveCounts = field(default_factory=WaveCounts)  # every wave before the current
    floor: WaveCounts = field(default_factory=WaveCounts)  # totals at the last resume
    current: WaveCounts = field(default_factory=WaveCounts)  # the current wave, last seen
    accepted_wave: int | None = None  # an admin resumed past this wave's conditions
    paused_at: datetime | None = None
    resumed_at: datetime | None = None

    @property
    def last_wave(self) -> bool:
        return self.wave_index == len(self.wave_sizes) - 1

    @property
    def totals(self) -> WaveCounts:
        """Every target seen so far: closed waves plus the current one."""
        return self.closed + self.current

    def _move(self, to: RolloutState, requested: str, *allowed: RolloutState) -> RolloutChanged:
        if self.state not in allowed:
            raise InvalidTransition(self.state.value, requested)
        previous, self.state = self.state, to
        return RolloutChanged(previous, to, self.reason)

    def _finish(self, now: datetime, outcome: Outcome | None = None) -> None:
        self.finished_at = now
        if outcome is None:
            outcome = Outcome.FAILED if self.totals.failed else Outcome.INCONCLUSIVE
        self.outcome = outcome

    def start(self, now: datetime) -> list[RolloutAction]:
        """Draft -> running, starting the first wave (no waves: succeeded at once)."""
        changed = self._move(R.RUNNING, "start", R.DRAFT)
        self.started_at = now
        if not self.wave_sizes:
            self.state = R.SUCCEEDED
            self._finish(now, Outcome.INCONCLUSIVE)  # nothing was there to update
            return [RolloutChanged(R.DRAFT, R.SUCCEEDED, "no targets")]
        return [changed, self._open_wave(0, now)]

    def _open_wave(self, index: int, now: datetime) -> StartWave:
        self.wave_index = index
        self.wave_started_at = now
        self.soak_started_at = None
        self.current = WaveCounts()
        return StartWave(index, self.wave_sizes[index])

    def pause(self, reason: str, now: datetime) -> list[RolloutAction]:
        """Running -> paused: nothing new is sent; in-flight stations keep reporting."""
        if self.state is not R.RUNNING:
            raise InvalidTransition(self.state.value, "pause")
        self.reason = reason
        self.paused_at = now
        return [self._move(R.PAUSED, "pause", R.RUNNING)]

    def resume(self, now: datetime, counts: WaveCounts | None = None) -> list[RolloutAction]:
        """Paused -> running. The failures so far are acknowledged (criteria count afresh
        from here) and the current wave's success condition and health gate are waived."""
        if self.state is not R.PAUSED:
            raise InvalidTransition(self.state.value, "resume")
        if counts is not None:
            self.current = counts
        self.floor = self.totals
        self.accepted_wave = self.wave_index
        self.reason = None
        self.paused_at = None
        self.resumed_at = now
        return [self._move(R.RUNNING, "resume", R.PAUSED)]

    def abort(self, reason: str, now: datetime) -> list[RolloutAction]:
        """Stop now: nothing more is sent; in-flight stations keep reporting."""
        if self.state not in (R.RUNNING, R.PAUSED):
            raise InvalidTransition(self.state.value, "abort")
        self.reason = reason
        changed = self._move(R.ABORTED, "abort", R.RUNNING, R.PAUSED)
        self._finish(now)
        return [changed, CancelWaiting()]

    def cancel(self, now: datetime) -> list[RolloutAction]:
        """Withdraw: like abort, but also from a draft; ends inconclusive unless one failed."""
        if self.state in FINAL_ROLLOUT_STATES:
            raise InvalidTransition(self.state.value, "cancel")
        was_draft = self.state is R.DRAFT
        changed = self._move(R.CANCELLED, "cancel", R.DRAFT, R.RUNNING, R.PAUSED)
        self._finish(now)
        return [changed] if was_draft else [changed, CancelWaiting()]

    def tick(
        self,
        now: datetime,
        wave_counts: WaveCounts,
        *,
        baseline: HealthSample | None = None,
        observed: HealthSample | None = None,
    ) -> list[RolloutAction]:
        """Judge the current wave from its counts; returns the moves to apply."""
        if self.state is not R.RUNNING:
            return []
        self.current = wave_counts
        verdict = evaluate(
            wave_counts,
            self.policy,
            soak_started_at=self.soak_started_at,
            now=now,
            baseline=baseline,
            observed=observed,
            totals=self.totals - self.floor,
            last_wave=self.last_wave,
            accepted=self.accepted_wave == self.wave_index,
        )
        kind = verdict.kind
        if kind is VerdictKind.SOAK:
            if self.soak_started_at is None:
                self.soak_started_at = now
            return []
        if kind is VerdictKind.PAUSE:
            self.reason = verdict.reason
            self.paused_at = now
            return [self._move(R.PAUSED, "pause", R.RUNNING)]
        if kind is VerdictKind.ABORT:
            self.reason = verdict.reason
            changed = self._move(R.FAILED, "fail", R.RUNNING)
            self._finish(now, Outcome.FAILED)
            return [changed, CancelWaiting()]
        if kind is VerdictKind.ADVANCE:
            self.closed = self.closed + wave_counts
            return [self._open_wave(self.wave_index + 1, now)]
        if kind is VerdictKind.COMPLETE:
            self.closed, self.current = self.closed + wave_counts, WaveCounts()
            changed = self._move(R.SUCCEEDED, "complete", R.RUNNING)
            self._finish(now, Outcome.SUCCESSFUL)
            return [changed]
        return []
