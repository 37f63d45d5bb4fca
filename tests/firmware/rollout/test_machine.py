"""The rollout: start, waves, pause/resume/abort/cancel, outcomes, illegal moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firmware.rollout.machine import Rollout
from firmware.rollout.model import (
    CancelWaiting,
    FailureCriterion,
    FailureKind,
    HealthGate,
    HealthSample,
    InvalidTransition,
    Outcome,
    RolloutChanged,
    RolloutState,
    StartWave,
    TargetState,
)
from firmware.rollout.waves import WaveCounts

from .builders import T0, minutes, policy

R = RolloutState
S = TargetState


def done(succeeded: int = 0, **failed: int) -> WaveCounts:
    failures = {FailureKind(k): v for k, v in failed.items()}
    states = {S.SUCCEEDED: succeeded, S.FAILED: sum(failures.values())}
    return WaveCounts({k: v for k, v in states.items() if v}, failures)


def running(sizes: tuple[int, ...] = (2, 3), **changes: object) -> Rollout:
    rollout = Rollout(policy(**changes), sizes)
    rollout.start(T0)
    return rollout


def test_start_moves_draft_to_running_and_opens_the_first_wave() -> None:
    rollout = Rollout(policy(), (2, 3))
    assert rollout.start(T0) == [RolloutChanged(R.DRAFT, R.RUNNING), StartWave(0, 2)]
    assert rollout.state is R.RUNNING and rollout.wave_index == 0 and rollout.started_at == T0


def test_a_rollout_without_targets_succeeds_at_once_as_inconclusive() -> None:
    rollout = Rollout(policy(), ())
    assert rollout.start(T0) == [RolloutChanged(R.DRAFT, R.SUCCEEDED, "no targets")]
    assert rollout.outcome is Outcome.INCONCLUSIVE


def test_waves_advance_one_by_one_and_the_last_completes_successfully() -> None:
    rollout = running((2, 3))
    assert rollout.tick(T0, WaveCounts({S.DOWNLOADING: 2})) == []
    assert rollout.tick(T0 + minutes(1), done(2)) == [StartWave(1, 3)]
    assert rollout.wave_index == 1 and rollout.wave_started_at == T0 + minutes(1)
    assert rollout.tick(T0 + minutes(2), done(3)) == [RolloutChanged(R.RUNNING, R.SUCCEEDED)]
    assert rollout.outcome is Outcome.SUCCESSFUL and rollout.closed.succeeded == 5
    assert rollout.tick(T0 + minutes(3), done(3)) == []  # a finished rollout does nothing


def test_a_criterion_pauses_the_rollout_with_its_reason() -> None:
    rule = FailureCriterion(FailureKind.SIGNATURE, 10.0, min_sample=10, action="pause")
    rollout = running((20,), criteria=(rule,))
    counts = WaveCounts(
        {S.SUCCEEDED: 9, S.FAILED: 1, S.DOWNLOADING: 10}, {FailureKind.SIGNATURE: 1}
    )
    actions = rollout.tick(T0, counts)
    assert rollout.state is R.PAUSED and rollout.reason is not None
    assert actions == [RolloutChanged(R.RUNNING, R.PAUSED, rollout.reason)]
    assert rollout.tick(T0, counts) == []  # paused: no verdicts


def test_resume_acknowledges_the_failures_so_far() -> None:
    rule = FailureCriterion(FailureKind.SIGNATURE, 10.0, min_sample=10, action="pause")
    rollout = running((40,), criteria=(rule,))
    first = WaveCounts({S.SUCCEEDED: 9, S.FAILED: 1, S.WAITING: 30}, {FailureKind.SIGNATURE: 1})
    rollout.tick(T0, first)
    assert rollout.resume(T0 + minutes(1)) == [RolloutChanged(R.PAUSED, R.RUNNING)]
    later = WaveCounts({S.SUCCEEDED: 18, S.FAILED: 1, S.WAITING: 21}, {FailureKind.SIGNATURE: 1})
    assert rollout.tick(T0 + minutes(2), later) == []
    again = WaveCounts({S.SUCCEEDED: 18, S.FAILED: 3, S.WAITING: 19}, {FailureKind.SIGNATURE: 3})
    rollout.tick(T0 + minutes(3), again)  # 2 new of 11 finished since the resume
    assert rollout.state is R.PAUSED


def test_a_wave_below_the_success_condition_pauses_and_resume_accepts_it() -> None:
    rollout = running((10, 10), success_percent=90.0)
    rollout.tick(T0, done(8, install=2))
    assert rollout.state is R.PAUSED and "success condition" in (rollout.reason or "")
    rollout.resume(T0 + minutes(5))
    assert rollout.tick(T0 + minutes(6), done(8, install=2)) == [StartWave(1, 10)]


def test_an_abort_criterion_fails_the_rollout_and_cancels_what_was_not_sent() -> None:
    rule = FailureCriterion(None, 50.0, min_sample=4, action="abort")
    rollout = running((10,), criteria=(rule,))
    actions = rollout.tick(T0, WaveCounts({S.FAILED: 2, S.SUCCEEDED: 2, S.WAITING: 6}))
    assert actions[0].state is R.FAILED and actions[1] == CancelWaiting()  # type: ignore[union-attr]
    assert rollout.state is R.FAILED and rollout.outcome is Outcome.FAILED


def test_the_health_gate_soaks_from_when_the_wave_settled() -> None:
    gate = HealthGate(soak=timedelta(hours=1), margin_percent=10.0)
    rollout = running((5, 5), health=gate)
    baseline = HealthSample(100, faults=1)
    assert rollout.tick(T0, done(5), baseline=baseline) == []
    assert rollout.soak_started_at == T0
    healthy = HealthSample(5, faults=0)
    assert rollout.tick(T0 + minutes(59), done(5), baseline=baseline, observed=healthy) == []
    assert rollout.tick(T0 + minutes(60), done(5), baseline=baseline, observed=healthy) == [
        StartWave(1, 5)
    ]
    assert rollout.soak_started_at is None  # the next wave soaks afresh


def test_an_unhealthy_wave_pauses_after_the_soak() -> None:
    gate = HealthGate(soak=timedelta(hours=1), margin_percent=10.0)
    rollout = running((5, 5), health=gate)
    rollout.tick(T0, done(5))
    rollout.tick(
        T0 + timedelta(hours=2),
        done(5),
        baseline=HealthSample(100, reboots=1),
        observed=HealthSample(5, reboots=1),
    )
    assert rollout.state is R.PAUSED and (rollout.reason or "").startswith("health: reboots")


def test_pause_and_resume_by_an_admin() -> None:
    rollout = running()
    assert rollout.pause("holiday", T0) == [RolloutChanged(R.RUNNING, R.PAUSED, "holiday")]
    assert rollout.paused_at == T0
    rollout.resume(T0 + minutes(1))
    assert rollout.state is R.RUNNING and rollout.reason is None and rollout.paused_at is None


def test_abort_by_an_admin_ends_inconclusive_without_failures_failed_with_them() -> None:
    rollout = running()
    rollout.tick(T0, WaveCounts({S.SUCCEEDED: 1, S.DOWNLOADING: 1}))
    assert rollout.abort("wrong image", T0) == [
        RolloutChanged(R.RUNNING, R.ABORTED, "wrong image"),
        CancelWaiting(),
    ]
    assert rollout.outcome is Outcome.INCONCLUSIVE and rollout.finished_at == T0
    failing = running()
    failing.tick(T0, WaveCounts({S.FAILED: 1, S.DOWNLOADING: 1}, {FailureKind.INSTALL: 1}))
    failing.pause("look", T0)
    failing.abort("bad", T0)
    assert failing.outcome is Outcome.FAILED


def test_cancel_from_draft_running_or_paused() -> None:
    draft = Rollout(policy(), (1,))
    assert draft.cancel(T0) == [RolloutChanged(R.DRAFT, R.CANCELLED)]
    assert draft.outcome is Outcome.INCONCLUSIVE
    rollout = running()
    rollout.pause("x", T0)
    assert rollout.cancel(T0)[1] == CancelWaiting()
    assert rollout.state is R.CANCELLED


@pytest.mark.parametrize(
    ("setup", "move"),
    [
        ("draft", "pause"),
        ("draft", "resume"),
        ("draft", "abort"),
        ("running", "start"),
        ("running", "resume"),
        ("paused", "pause"),
        ("paused", "start"),
        ("succeeded", "pause"),
        ("succeeded", "cancel"),
        ("aborted", "resume"),
        ("aborted", "abort"),
        ("cancelled", "cancel"),
        ("cancelled", "start"),
    ],
)
def test_illegal_moves_raise_invalid_transition(setup: str, move: str) -> None:
    rollout = Rollout(policy(), (1,))
    if setup != "draft":
        rollout.start(T0)
    if setup == "paused":
        rollout.pause("x", T0)
    if setup == "succeeded":
        rollout.tick(T0, done(1))
    if setup == "aborted":
        rollout.abort("x", T0)
    if setup == "cancelled":
        rollout.cancel(T0)
    assert rollout.state.value == setup
    before = (rollout.state, rollout.reason, rollout.outcome)
    calls = {
        "start": lambda: rollout.start(T0),
        "pause": lambda: rollout.pause("again", T0),
        "resume": lambda: rollout.resume(T0),
        "abort": lambda: rollout.abort("again", T0),
        "cancel": lambda: rollout.cancel(T0),
    }
    with pytest.raises(InvalidTransition) as raised:
        calls[move]()
    assert (raised.value.current, raised.value.requested) == (setup, move)
    assert (rollout.state, rollout.reason, rollout.outcome) == before  # nothing half-done


def test_resume_takes_the_current_counts_when_given() -> None:
    rule = FailureCriterion(FailureKind.DOWNLOAD, 20.0, min_sample=5)
    rollout = running((20,), criteria=(rule,))
    rollout.pause("manual", T0)
    seen = WaveCounts({S.SUCCEEDED: 3, S.FAILED: 2, S.WAITING: 15}, {FailureKind.DOWNLOAD: 2})
    rollout.resume(T0, seen)
    assert rollout.floor == seen
    same = WaveCounts({S.SUCCEEDED: 3, S.FAILED: 2, S.WAITING: 15}, {FailureKind.DOWNLOAD: 2})
    assert rollout.tick(T0, same) == []  # the two failures were acknowledged at resume
