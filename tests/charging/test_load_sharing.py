"""Site load management: fair shares per phase, priorities, minimum current, fallback, budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.load_ramp import Pushed, PushedLimit, RampPolicy, ramp, recompute
from charging.load_sharing import (
    PHASES,
    ActiveSession,
    Phase,
    Site,
    SiteConfigError,
    SiteLimit,
    SiteStation,
    WaitReason,
    allocate,
    fallback_limit,
)
from charging.site_budget import MeterReading, meter_budget

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def three_phase(name: str, **kw: object) -> SiteStation:
    return SiteStation(name, **kw)  # type: ignore[arg-type]


def single(name: str, phase: Phase, **kw: object) -> SiteStation:
    return SiteStation(name, phases=1, phase=phase, **kw)  # type: ignore[arg-type]


def test_equal_sessions_share_the_limit_equally() -> None:
    site = Site.of(SiteLimit.per_phase(32), [three_phase(f"s{i}") for i in range(3)])
    sessions = [ActiveSession(f"t{i}", f"s{i}") for i in range(3)]
    result = allocate(site, sessions)
    assert result.currents == {"t0": 10.6, "t1": 10.6, "t2": 10.6}
    assert result.waiting == ()


def test_a_capped_station_leaves_the_rest_to_the_others() -> None:
    site = Site.of(SiteLimit.per_phase(40), [three_phase("a", max_current=10), three_phase("b")])
    result = allocate(site, [ActiveSession("1", "a"), ActiveSession("2", "b")])
    assert result.currents == {"1": 10.0, "2": 30.0}


def test_single_phase_stations_share_only_their_own_phase() -> None:
    site = Site.of(
        SiteLimit.per_phase(32),
        [three_phase("a"), single("b", Phase.L1), single("c", Phase.L2, max_current=10)],
    )
    sessions = [ActiveSession("1", "a"), ActiveSession("2", "b"), ActiveSession("3", "c")]
    result = allocate(site, sessions)
    assert result.currents == {"1": 16.0, "2": 16.0, "3": 10.0}
    assert result.phase_load(site, sessions) == {Phase.L1: 32.0, Phase.L2: 26.0, Phase.L3: 16.0}


def test_a_higher_priority_is_filled_first() -> None:
    site = Site.of(
        SiteLimit.per_phase(32), [three_phase("vip", priority=1, max_current=20), three_phase("b")]
    )
    result = allocate(site, [ActiveSession("1", "b"), ActiveSession("2", "vip")])
    assert result.currents == {"1": 12.0, "2": 20.0}


def test_sessions_that_cannot_get_the_minimum_wait_in_arrival_order() -> None:
    site = Site.of(SiteLimit.per_phase(13), [three_phase(f"s{i}") for i in range(4)])
    sessions = [ActiveSession(f"t{i}", f"s{i}") for i in range(4)]
    result = allocate(site, sessions)
    assert result.currents == {"t0": 6.5, "t1": 6.5, "t2": 0.0, "t3": 0.0}
    assert [(w.session_id, w.reason) for w in result.waiting] == [
        ("t2", WaitReason.SITE_FULL),
        ("t3", WaitReason.SITE_FULL),
    ]


def test_a_single_phase_session_on_a_free_phase_charges_while_a_three_phase_one_waits() -> None:
    site = Site.of(
        SiteLimit.per_phase(12),
        [single("a", Phase.L1, min_current=8), three_phase("b"), single("c", Phase.L2)],
    )
    sessions = [ActiveSession("1", "a"), ActiveSession("2", "b"), ActiveSession("3", "c")]
    result = allocate(site, sessions)
    assert result.currents == {"1": 12.0, "2": 0.0, "3": 12.0}
    assert [w.session_id for w in result.waiting] == ["2"]


def test_a_site_limit_below_the_minimum_current_makes_every_session_wait_and_says_why() -> None:
    site = Site.of(SiteLimit.per_phase(5), [three_phase("a"), single("b", Phase.L3)])
    result = allocate(site, [ActiveSession("1", "a"), ActiveSession("2", "b")])
    assert result.currents == {"1": 0.0, "2": 0.0}
    assert {w.reason for w in result.waiting} == {WaitReason.LIMIT_BELOW_MIN_CURRENT}


def test_a_kw_limit_becomes_current_per_phase() -> None:
    assert SiteLimit.from_kw(22.08) == pytest.approx(SiteLimit.per_phase(32.0))
    single_phase = SiteLimit.from_kw(7.36, phases=1)
    assert (single_phase.l1, single_phase.l2) == (pytest.approx(32.0), 0.0)
    with pytest.raises(SiteConfigError):
        SiteLimit.from_kw(11, phases=2)


def test_a_session_on_an_unknown_station_is_refused() -> None:
    site = Site.of(SiteLimit.per_phase(32), [three_phase("a")])
    with pytest.raises(SiteConfigError, match="not on this site"):
        allocate(site, [ActiveSession("1", "nope")])
    with pytest.raises(SiteConfigError, match="twice"):
        Site.of(SiteLimit.per_phase(32), [three_phase("a"), three_phase("a")])


def test_the_fallback_keeps_the_site_under_its_limit_when_every_station_falls_back() -> None:
    site = Site.of(
        SiteLimit.per_phase(63),
        [three_phase("a"), three_phase("b"), single("c", Phase.L1), single("d", Phase.L2)],
    )
    assert fallback_limit(site).amps == 21.0  # L1 carries a, b and c
    crowded = Site.of(SiteLimit.per_phase(32), [three_phase(f"s{i}") for i in range(6)])
    fallback = fallback_limit(crowded)
    assert fallback.amps == 0.0
    assert "below the minimum current" in fallback.reason


def test_decreases_apply_at_once_and_increases_are_ramped() -> None:
    policy = RampPolicy(max_step=6.0, interval=timedelta(seconds=30))
    first = ramp(Pushed(), {"a": 32.0, "b": 3.0}, policy=policy, now=T0)
    assert {k: v.amps for k, v in first.limits.items()} == {"a": 6.0, "b": 3.0}
    soon = ramp(first, {"a": 32.0, "b": 0.0}, policy=policy, now=T0 + timedelta(seconds=10))
    assert soon.limits["a"].amps == 6.0 and soon.changed == {"b": 0.0}
    later = ramp(soon, {"a": 32.0}, policy=policy, now=T0 + timedelta(seconds=30))
    assert later.changed == {"a": 12.0} and "b" not in later.limits
    down = ramp(later, {"a": 7.0}, policy=policy, now=T0 + timedelta(seconds=31))
    assert down.changed == {"a": 7.0}


def test_a_small_step_still_starts_a_session_at_its_minimum() -> None:
    policy = RampPolicy(max_step=2.0)
    first = ramp(Pushed(), {"a": 0.0}, policy=policy, now=T0, first_step=6.0)
    second = ramp(first, {"a": 16.0}, policy=policy, now=T0, first_step=6.0)
    assert second.limits["a"].amps == 6.0


def test_the_meter_budget_subtracts_the_building_load_from_the_fuse() -> None:
    reading = MeterReading(T0, l1=40.0, l2=20.0, l3=10.0)
    budget = meter_budget(
        fuse=SiteLimit.per_phase(50),
        reading=reading,
        our_draw=SiteLimit(30.0, 16.0, 16.0),
        now=T0 + timedelta(seconds=5),
        max_age=timedelta(seconds=30),
        fallback=SiteLimit.per_phase(16),
        circuit=SiteLimit.per_phase(48),
    )
    # building: 10, 4, 0 (our draw on L3 is above the reading: never below zero)
    assert budget.limit == SiteLimit(40.0, 46.0, 48.0)
    assert budget.alert is False


@pytest.mark.parametrize(
    "reading",
    [None, MeterReading(T0 - timedelta(minutes=2), 1, 1, 1), MeterReading(T0, float("nan"), 1, 1)],
    ids=["missing", "stale", "nan"],
)
def test_a_stale_or_missing_meter_falls_back_to_the_static_limit_with_an_alert(
    reading: MeterReading | None,
) -> None:
    budget = meter_budget(
        fuse=SiteLimit.per_phase(50),
        reading=reading,
        our_draw=SiteLimit.per_phase(0),
        now=T0,
        max_age=timedelta(seconds=30),
        fallback=SiteLimit.per_phase(16),
    )
    assert budget.limit == SiteLimit.per_phase(16) and budget.alert is True


stations_strategy = st.lists(
    st.builds(
        lambda phases, phase, priority, low, span: (phases, phase, priority, low, low + span),
        st.sampled_from([1, 3]),
        st.sampled_from(PHASES),
        st.integers(0, 2),
        st.sampled_from([6.0, 6.0, 8.0, 10.0]),
        st.floats(0, 26),
    ),
    min_size=1,
    max_size=12,
)


def build(raw: list[tuple[int, Phase, int, float, float]], limit: SiteLimit) -> Site:
    return Site.of(
        limit,
        [
            SiteStation(f"s{i}", phases=p, phase=ph, priority=pr, min_current=lo, max_current=hi)
            for i, (p, ph, pr, lo, hi) in enumerate(raw)
        ],
    )


@settings(max_examples=200, deadline=None)
@given(
    raw=stations_strategy,
    limits=st.tuples(st.floats(0, 120), st.floats(0, 120), st.floats(0, 120)),
    data=st.data(),
)
def test_properties_of_every_allocation(
    raw: list[tuple[int, Phase, int, float, float]],
    limits: tuple[float, float, float],
    data: st.DataObject,
) -> None:
    site = build(raw, SiteLimit(*limits))
    order = data.draw(st.permutations(list(site.stations)))
    sessions = [ActiveSession(f"t-{sid}", sid) for sid in order]
    result = allocate(site, sessions)
    load = result.phase_load(site, sessions)
    for phase in PHASES:
        assert load[phase] <= site.limit.on(phase) + 1e-6
    waiting = {w.session_id for w in result.waiting}
    by_session = {s.session_id: site.station(s.station_id) for s in sessions}
    for sid, amps in result.currents.items():
        station = by_session[sid]
        if sid in waiting:
            assert amps == 0.0
        else:
            assert station.min_current - 1e-6 <= amps <= station.max_current + 1e-6
    # max-min fairness: a session below its maximum has a phase that is full (to rounding),
    # where no session of its priority gets visibly more and none of a lower one gets more
    # than its minimum
    on_phase = {p: [s for s in by_session if p in by_session[s].site_phases] for p in PHASES}
    slack = 0.1 * len(sessions) + 1e-6
    for sid, amps in result.currents.items():
        station = by_session[sid]
        if sid in waiting or amps >= station.max_current - 0.1:
            continue
        assert any(
            load[p] >= site.limit.on(p) - slack
            and all(
                result.currents[o] <= amps + 0.1 + 1e-6
                for o in on_phase[p]
                if by_session[o].priority == station.priority
                and result.currents[o] > by_session[o].min_current
            )
            and all(
                result.currents[o] <= by_session[o].min_current + 1e-6
                for o in on_phase[p]
                if by_session[o].priority < station.priority and o not in waiting
            )
            for p in station.site_phases
        ), (sid, amps, result)


@settings(max_examples=200, deadline=None)
@given(raw=stations_strategy, amps=st.floats(0, 200))
def test_the_fallback_never_takes_a_phase_over_its_limit(
    raw: list[tuple[int, Phase, int, float, float]], amps: float
) -> None:
    site = build(raw, SiteLimit.per_phase(amps))
    fallback = fallback_limit(site).amps
    for phase in PHASES:
        drawn = sum(
            min(fallback, s.max_current) for s in site.stations.values() if phase in s.site_phases
        )
        assert drawn <= amps + 1e-6
    if fallback:
        assert fallback >= max(s.min_current for s in site.stations.values())


@settings(max_examples=200, deadline=None)
@given(
    before=st.dictionaries(st.sampled_from("abcdef"), st.floats(0, 32), max_size=6),
    targets=st.dictionaries(st.sampled_from("abcdef"), st.floats(0, 32), max_size=6),
    seconds=st.integers(0, 90),
)
def test_a_ramped_push_never_exceeds_its_target_and_rises_at_most_one_step(
    before: dict[str, float], targets: dict[str, float], seconds: int
) -> None:
    policy = RampPolicy(max_step=4.0, interval=timedelta(seconds=30))
    previous = Pushed({k: PushedLimit(v, T0) for k, v in before.items()})
    now = T0 + timedelta(seconds=seconds)
    pushed = ramp(previous, targets, policy=policy, now=now, first_step=6.0)
    assert set(pushed.limits) == set(targets)
    for sid, limit in pushed.limits.items():
        assert limit.amps <= targets[sid]
        if sid in before:
            if limit.amps > before[sid]:
                assert seconds >= 30 and limit.amps <= max(before[sid] + 4.0, 6.0)
            if targets[sid] <= before[sid]:
                assert limit.amps == targets[sid]  # a decrease applies at once
        else:
            assert limit.amps == min(targets[sid], 6.0)


def test_a_recompute_shares_the_budget_and_ramps_what_it_pushes() -> None:
    site = Site.of(SiteLimit.per_phase(32), [three_phase("a"), three_phase("b")])
    sessions = [ActiveSession("1", "a")]
    policy = RampPolicy(max_step=6.0, interval=timedelta(seconds=30))
    allocation, pushed = recompute(site, sessions, previous=Pushed(), policy=policy, now=T0)
    assert allocation.currents == {"1": 32.0} and pushed.changed == {"1": 6.0}
    sessions.append(ActiveSession("2", "b"))
    budget = SiteLimit.per_phase(20)  # the meter saw the building draw more
    later = T0 + timedelta(seconds=30)
    allocation, pushed = recompute(
        site, sessions, previous=pushed, policy=policy, now=later, limit=budget
    )
    assert allocation.currents == {"1": 10.0, "2": 10.0}
    assert pushed.changed == {"1": 10.0, "2": 6.0}
