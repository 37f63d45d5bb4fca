"""Streaming assignment of candidates to waves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.rollout.model import TargetSelection, WavePlan
from firmware.rollout.planner import Candidate, assign, count, in_sample, sample_point
from firmware.rollout.waves import plan_sizes


def fleet(n: int, *, family: str = "fam-a", version: str = "1.0.0") -> list[Candidate]:
    return [
        Candidate(f"CP-{i:06d}", family, "stable" if i % 4 else "beta", version, f"lot-{i % 3}")
        for i in range(n)
    ]


def waves_of(pairs: Iterator[tuple[str, int]]) -> list[int]:
    sizes = Counter(wave for _, wave in pairs)
    return [sizes[index] for index in range(len(sizes))]


def test_fixed_waves_follow_the_stream_order() -> None:
    pairs = list(assign(fleet(7), TargetSelection("fam-a"), WavePlan("fixed", sizes=(2, 3))))
    assert pairs == [
        ("CP-000000", 0),
        ("CP-000001", 0),
        ("CP-000002", 1),
        ("CP-000003", 1),
        ("CP-000004", 1),
        ("CP-000005", 2),
        ("CP-000006", 2),
    ]


def test_selection_filters_family_channel_lots_stations_and_version() -> None:
    mixed = [
        *fleet(8),
        Candidate("OTHER-1", "fam-b", "stable", "1.0.0"),
        Candidate("NEW-1", "fam-a", "stable", "2.0.0", "lot-1"),
        Candidate("NOVER-1", "fam-a", "stable", None, "lot-1"),
    ]
    plan = WavePlan("fixed", sizes=(100,))

    def ids(selection: TargetSelection) -> list[str]:
        return [station for station, _ in assign(mixed, selection, plan)]

    assert "OTHER-1" not in ids(TargetSelection("fam-a"))
    assert ids(TargetSelection("fam-a", channel="beta")) == ["CP-000000", "CP-000004"]
    assert ids(TargetSelection("fam-a", lots=("lot-1",), below_version="1.5")) == [
        "CP-000001",
        "CP-000004",
        "CP-000007",
    ]
    assert ids(TargetSelection("fam-a", stations=("CP-000003", "OTHER-1", "NEW-1"))) == [
        "CP-000003",
        "NEW-1",
    ]


def test_the_sample_is_deterministic_by_seed_and_close_to_its_share() -> None:
    candidates = fleet(20_000)
    sample = TargetSelection("fam-a", sample_percent=10.0, seed=42)
    plan = WavePlan("fixed", sizes=(1000,))
    first = [s for s, _ in assign(candidates, sample, plan)]
    again = [s for s, _ in assign(reversed(candidates), sample, plan)]
    assert sorted(first) == sorted(again)
    assert 1800 <= len(first) <= 2200
    other_seed = {
        s
        for s, _ in assign(candidates, TargetSelection("fam-a", sample_percent=10.0, seed=43), plan)
    }
    assert len(other_seed & set(first)) < len(first) // 2


def test_sample_edges_take_nothing_and_everything() -> None:
    assert not in_sample(0, "CP-1", 0.0) and in_sample(0, "CP-1", 100.0)
    assert 0 <= sample_point(0, "CP-1") < 2**64


def test_percent_waves_with_a_total_from_a_count() -> None:
    candidates = fleet(1000)
    selection = TargetSelection("fam-a", channel="stable")
    plan = WavePlan("percent", percents=(1, 10, 50))
    total = count(candidates, selection)
    assert total == 750
    pairs = assign(iter(candidates), selection, plan, total=total)
    assert waves_of(pairs) == plan_sizes(750, plan) == [8, 67, 300, 375]


def test_percent_waves_over_a_re_iterable_source_take_two_passes() -> None:
    plan = WavePlan("percent", percents=(10, 50))
    assert waves_of(assign(fleet(200), TargetSelection("fam-a"), plan)) == [20, 80, 100]


def test_percent_waves_from_a_one_shot_iterator_without_total_are_refused() -> None:
    with pytest.raises(TypeError, match="total"):
        list(assign(iter(fleet(5)), TargetSelection("fam-a"), WavePlan("percent", percents=(50,))))


def test_more_candidates_than_the_total_join_the_last_wave() -> None:
    plan = WavePlan("percent", percents=(50,))
    assert waves_of(assign(iter(fleet(13)), TargetSelection("fam-a"), plan, total=10)) == [5, 8]
    assert waves_of(assign(iter(fleet(3)), TargetSelection("fam-a"), plan, total=0)) == [3]


def test_a_negative_total_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        list(assign(fleet(1), TargetSelection("fam-a"), WavePlan("fixed", sizes=(1,)), total=-1))


def test_exponential_waves_follow_the_preview() -> None:
    plan = WavePlan("exponential", base=2, factor=2.0, raise_after=2)
    assert waves_of(assign(iter(fleet(20)), TargetSelection("fam-a"), plan)) == [2, 4, 8, 6]


def test_assign_is_lazy() -> None:
    def endless() -> Iterator[Candidate]:
        i = 0
        while True:
            yield Candidate(f"CP-{i}", "fam-a", "stable", "1.0")
            i += 1

    stream = assign(endless(), TargetSelection("fam-a"), WavePlan("fixed", sizes=(3,)))
    assert [next(stream) for _ in range(4)][-1] == ("CP-3", 1)


@settings(deadline=None)  # data-heavy examples; slow under tracing
@given(
    st.integers(0, 3000),
    st.lists(st.integers(1, 100), min_size=1, max_size=4),
    st.one_of(st.none(), st.floats(0, 100)),
)
def test_every_selected_candidate_gets_exactly_one_wave_and_waves_match_the_sizes(
    n: int, shares: list[int], sample: float | None
) -> None:
    plan = WavePlan("percent", percents=tuple(sorted(set(shares))))
    selection = TargetSelection("fam-a", sample_percent=sample)
    candidates = fleet(n)
    pairs = list(assign(candidates, selection, plan))
    assert len({s for s, _ in pairs}) == len(pairs) == count(candidates, selection)
    assert waves_of(iter(pairs)) == plan_sizes(len(pairs), plan)
