"""Wave sizes and the verdict on a wave: criteria, success condition, health gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.rollout.model import (
    FailureCriterion,
    FailureKind,
    HealthGate,
    HealthSample,
    TargetState,
    WavePlan,
)
from firmware.rollout.waves import (
    VerdictKind,
    WaveCounts,
    evaluate,
    iter_sizes,
    next_size,
    plan_sizes,
    preview,
)

from .builders import T0, policy

S = TargetState
F = FailureKind


def counts(**states: int) -> WaveCounts:
    failures = {F(k[7:]): v for k, v in states.items() if k.startswith("failed_")}
    plain = {S(k): v for k, v in states.items() if not k.startswith("failed_")}
    if failures:
        plain[S.FAILED] = plain.get(S.FAILED, 0) + sum(failures.values())
    return WaveCounts(plain, failures)


# -- sizes -----------------------------------------------------------------------------------


def test_fixed_sizes_repeat_the_last_until_everyone_is_in_a_wave() -> None:
    assert plan_sizes(100, WavePlan("fixed", sizes=(1, 10, 30))) == [1, 10, 30, 30, 29]
    assert plan_sizes(5, WavePlan("fixed", sizes=(10, 100))) == [5]


def test_percent_shares_are_cumulative_and_exact() -> None:
    plan = WavePlan("percent", percents=(1, 10, 50))
    assert plan_sizes(1000, plan) == [10, 90, 400, 500]
    assert plan_sizes(1_000_000, WavePlan("percent", percents=(0.1, 100))) == [1000, 999_000]


def test_percent_shares_round_up_and_drop_empty_waves() -> None:
    plan = WavePlan("percent", percents=(1, 10, 50, 100))
    assert plan_sizes(3, plan) == [1, 1, 1]
    assert plan_sizes(0, plan) == []


def test_exponential_rate_grows_by_the_factor_after_enough_successes() -> None:
    plan = WavePlan("exponential", base=10, factor=2.0, raise_after=25, max_size=200)
    assert plan_sizes(1000, plan) == [10, 10, 10, 20, 20, 40, 80, 160, 200, 200, 200, 50]


def test_exponential_rate_raise_after_one_doubles_every_wave() -> None:
    plan = WavePlan("exponential", base=1, factor=2.0, raise_after=1)
    assert plan_sizes(100, plan) == [1, 2, 4, 8, 16, 32, 37]


def test_exponential_factor_rounds_up_so_the_rate_always_grows() -> None:
    plan = WavePlan("exponential", base=3, factor=1.1, raise_after=1)
    assert plan_sizes(30, plan)[:4] == [3, 4, 5, 6]


def test_next_size_keeps_the_size_until_the_count_reaches_raise_after() -> None:
    plan = WavePlan("exponential", base=10, factor=3.0, raise_after=50, max_size=100)
    assert next_size(plan, 10, 49) == (10, 49)
    assert next_size(plan, 10, 50) == (30, 0)
    assert next_size(plan, 90, 90) == (100, 0)


def test_preview_is_the_plan_assuming_success() -> None:
    plan = WavePlan("exponential", base=2, factor=2.0, raise_after=2)
    assert preview(20, plan) == plan_sizes(20, plan) == [2, 4, 8, 6]


def test_a_percent_plan_needs_the_total_and_totals_are_not_negative() -> None:
    with pytest.raises(ValueError, match="total"):
        next(iter_sizes(WavePlan("percent", percents=(50,))))
    with pytest.raises(ValueError, match="negative"):
        plan_sizes(-1, WavePlan("fixed", sizes=(1,)))


plans = st.one_of(
    st.lists(st.integers(1, 500), min_size=1, max_size=6).map(
        lambda s: WavePlan("fixed", sizes=tuple(s))
    ),
    st.lists(st.floats(0.01, 100), min_size=1, max_size=6).map(
        lambda p: WavePlan("percent", percents=tuple(sorted(set(p))))
    ),
    st.builds(
        lambda b, f, r, m: WavePlan(
            "exponential", base=b, factor=f, raise_after=r, max_size=None if m is None else b + m
        ),
        st.integers(1, 50),
        st.floats(1, 8),
        st.integers(1, 200),
        st.one_of(st.none(), st.integers(0, 500)),
    ),
)


@settings(deadline=None)  # data-heavy examples; slow under tracing
@given(st.integers(0, 20_000), plans)
def test_wave_sizes_are_positive_and_always_sum_to_the_total(total: int, plan: WavePlan) -> None:
    sizes = plan_sizes(total, plan)
    assert sum(sizes) == total and all(size > 0 for size in sizes)
    if plan.kind == "exponential" and plan.max_size is not None:
        assert max(sizes, default=0) <= plan.max_size


# -- counts ----------------------------------------------------------------------------------


def test_wave_counts_count_states_and_failure_kinds() -> None:
    c = WaveCounts.of(
        [
            (S.SUCCEEDED, None),
            (S.FAILED, F.SIGNATURE),
            (S.FAILED, F.SIGNATURE),
            (S.DOWNLOADING, None),
            (S.SKIPPED, None),
        ]
    )
    assert c.total == 5 and c.decided == 3 and c.unsettled == 1
    assert c.failed_with(F.SIGNATURE) == 2 and c.failed_with(None) == 2
    assert (c + c).failed_with(F.SIGNATURE) == 4 and (c + c - c) == c


# -- criteria --------------------------------------------------------------------------------


def judge(c: WaveCounts, **policy_changes: object) -> VerdictKind:
    return evaluate(
        c, policy(**policy_changes), soak_started_at=None, now=T0, baseline=None, observed=None
    ).kind


SIGNATURE_10 = FailureCriterion(F.SIGNATURE, 10.0, min_sample=20, action="pause")


def test_below_the_minimum_sample_a_criterion_does_not_fire() -> None:
    c = counts(succeeded=10, failed_signature=9, downloading=30)  # 47% of 19 finished
    assert judge(c, criteria=(SIGNATURE_10,)) is VerdictKind.CONTINUE


def test_at_the_minimum_sample_and_the_threshold_a_criterion_pauses() -> None:
    c = counts(succeeded=18, failed_signature=2, downloading=30)  # 10% of 20
    verdict = evaluate(
        c,
        policy(criteria=(SIGNATURE_10,)),
        soak_started_at=None,
        now=T0,
        baseline=None,
        observed=None,
    )
    assert verdict.kind is VerdictKind.PAUSE
    assert verdict.reason == "signature failures 10.0% >= 10% (2 of 20 finished)"


def test_a_criterion_counts_only_its_own_failure_kind() -> None:
    c = counts(succeeded=10, failed_download=10)
    assert judge(c, criteria=(SIGNATURE_10,), success_percent=0) is VerdictKind.ADVANCE


def test_a_criterion_without_kind_counts_every_failure_and_can_abort() -> None:
    any_30 = FailureCriterion(None, 30.0, min_sample=10, action="abort")
    c = counts(succeeded=7, failed_download=2, failed_install=1, waiting=50)
    assert judge(c, criteria=(any_30,)) is VerdictKind.ABORT


def test_criteria_count_the_totals_when_given() -> None:
    wave = counts(succeeded=5, failed_signature=1)
    totals = counts(succeeded=15, failed_signature=5)
    verdict = evaluate(
        wave,
        policy(criteria=(SIGNATURE_10,), success_percent=50),
        soak_started_at=None,
        now=T0,
        baseline=None,
        observed=None,
        totals=totals,
    )
    assert verdict.kind is VerdictKind.PAUSE and "5 of 20" in (verdict.reason or "")


# -- success condition -----------------------------------------------------------------------


def test_a_wave_still_running_continues() -> None:
    assert judge(counts(succeeded=9, installed=1)) is VerdictKind.CONTINUE


def test_a_settled_wave_meeting_the_success_condition_advances_or_completes() -> None:
    c = counts(succeeded=9, failed_install=1, skipped=5)
    assert judge(c, success_percent=90) is VerdictKind.ADVANCE
    verdict = evaluate(
        c,
        policy(success_percent=90),
        soak_started_at=None,
        now=T0,
        baseline=None,
        observed=None,
        last_wave=True,
    )
    assert verdict.kind is VerdictKind.COMPLETE


def test_a_settled_wave_below_the_success_condition_pauses_unless_accepted() -> None:
    c = counts(succeeded=8, failed_install=2)
    verdict = evaluate(
        c, policy(success_percent=90), soak_started_at=None, now=T0, baseline=None, observed=None
    )
    assert verdict.kind is VerdictKind.PAUSE
    assert verdict.reason == "success condition not met: 80.0% < 90%"
    accepted = evaluate(
        c,
        policy(success_percent=90),
        soak_started_at=None,
        now=T0,
        baseline=None,
        observed=None,
        accepted=True,
    )
    assert accepted.kind is VerdictKind.ADVANCE


def test_a_wave_of_only_skipped_stations_advances() -> None:
    assert judge(counts(skipped=10)) is VerdictKind.ADVANCE


# -- health gate -----------------------------------------------------------------------------

GATE = HealthGate(soak=timedelta(hours=4), margin_percent=20.0)
BASELINE = HealthSample(station_hours=1000, faults=10, reboots=5, failed_sessions=20, sessions=900)
SETTLED = counts(succeeded=10)


def gate(observed: HealthSample | None, *, soak_for: timedelta = timedelta(hours=4), **kw: object):
    return evaluate(
        SETTLED,
        policy(health=GATE, **kw),
        soak_started_at=T0,
        now=T0 + soak_for,
        baseline=BASELINE,
        observed=observed,
    )


def test_the_gate_soaks_before_judging() -> None:
    assert judge(SETTLED, health=GATE) is VerdictKind.SOAK  # soak not started
    observed = HealthSample(40, faults=0)
    assert gate(observed, soak_for=timedelta(hours=3, minutes=59)).kind is VerdictKind.SOAK
    assert gate(observed).kind is VerdictKind.ADVANCE


def test_rates_within_the_margin_pass() -> None:
    # baseline faults 0.01/h; +20% allows 0.012/h; 0.0119/h passes
    observed = HealthSample(1000, faults=11, reboots=6, failed_sessions=24)
    assert gate(observed).kind is VerdictKind.ADVANCE


@pytest.mark.parametrize(
    ("observed", "label"),
    [
        (HealthSample(1000, faults=13), "faults"),
        (HealthSample(1000, reboots=7), "reboots"),
        (HealthSample(1000, failed_sessions=25), "failed sessions"),
    ],
)
def test_a_rate_over_the_margin_pauses_naming_the_metric(
    observed: HealthSample, label: str
) -> None:
    verdict = gate(observed)
    assert verdict.kind is VerdictKind.PAUSE
    assert verdict.reason is not None and verdict.reason.startswith(f"health: {label} ")


def test_the_gate_compares_rates_per_station_hour_not_counts() -> None:
    # twice the faults over twice the hours is the same rate
    assert gate(HealthSample(2000, faults=20)).kind is VerdictKind.ADVANCE


def test_the_gate_waits_for_figures_and_enough_station_hours() -> None:
    assert gate(None).kind is VerdictKind.SOAK
    strict = HealthGate(timedelta(hours=4), 20.0, min_station_hours=100)
    verdict = evaluate(
        SETTLED,
        policy(health=strict),
        soak_started_at=T0,
        now=T0 + timedelta(hours=5),
        baseline=BASELINE,
        observed=HealthSample(50),
    )
    assert verdict.kind is VerdictKind.SOAK


def test_without_a_baseline_any_fault_fails_the_gate_and_abort_is_honoured() -> None:
    aborting = HealthGate(timedelta(0), 50.0, action="abort")
    verdict = evaluate(
        SETTLED,
        policy(health=aborting),
        soak_started_at=T0,
        now=T0,
        baseline=None,
        observed=HealthSample(10, faults=1),
    )
    assert verdict.kind is VerdictKind.ABORT


def test_a_criterion_below_its_threshold_with_a_full_sample_holds() -> None:
    c = counts(succeeded=19, failed_signature=1, downloading=5)  # 5% of 20
    assert judge(c, criteria=(SIGNATURE_10,)) is VerdictKind.CONTINUE
