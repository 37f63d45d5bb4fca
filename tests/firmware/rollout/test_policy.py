"""Rollout policies as data: checks that name the field, and the JSON round trip."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.rollout.model import (
    FailureCriterion,
    FailureKind,
    HealthGate,
    MaintenanceWindow,
    PolicyError,
    RolloutPolicy,
    TargetSelection,
    WavePlan,
    policy_from_dict,
    policy_to_dict,
)


def full_policy() -> RolloutPolicy:
    return RolloutPolicy(
        selection=TargetSelection(
            "fam-a", "beta", "1.5.0", ("lot-1",), ("CP-1", "CP-2"), 12.5, seed=3
        ),
        waves=WavePlan("exponential", base=5, factor=1.5, raise_after=10, max_size=500),
        success_percent=95.0,
        criteria=(
            FailureCriterion(FailureKind.SIGNATURE, 10.0, 20, "pause"),
            FailureCriterion(None, 30.0, 50, "abort"),
        ),
        health=HealthGate(timedelta(hours=6), 25.0, 10.0, "abort"),
        station_timeout=timedelta(hours=1),
        probe_grace=timedelta(minutes=3),
        max_wait=timedelta(days=2),
        windows=(MaintenanceWindow(time(22, 30), time(4, 45), (0, 1, 2, 3, 4)),),
        during_transaction="force",
        retries=5,
        retry_interval=timedelta(seconds=90),
        allow_unsigned=True,
        allow_downgrade=True,
        download_protocol="ftp",
    )


def minimal() -> dict[str, Any]:
    return {"selection": {"family": "fam-a"}, "waves": {"kind": "fixed", "sizes": [10]}}


def test_a_full_policy_survives_a_json_round_trip() -> None:
    policy = full_policy()
    assert policy_from_dict(json.loads(json.dumps(policy_to_dict(policy)))) == policy


def test_a_minimal_policy_gets_the_defaults() -> None:
    policy = policy_from_dict(minimal())
    assert policy == RolloutPolicy(TargetSelection("fam-a"), WavePlan("fixed", sizes=(10,)))
    assert policy.station_timeout == timedelta(hours=2) and policy.during_transaction == "wait"
    assert policy.retries == 3 and not policy.allow_unsigned and not policy.allow_downgrade
    assert policy.download_protocol == "https"
    assert policy_to_dict(policy)["download_protocol"] == "https"


def with_(path: str, value: object) -> dict[str, Any]:
    data = minimal()
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {}) if not key.isdigit() else node[int(key)]
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "policy"),
        ({"waves": {"kind": "fixed", "sizes": [1]}}, "selection"),
        (with_("selection", "fam-a"), "selection"),
        (with_("selection.family", ""), "selection.family"),
        (with_("selection.family", 7), "selection.family"),
        (with_("selection.lots", "lot-1"), "selection.lots"),
        (with_("selection.stations", ["CP-1", 2]), "selection.stations[1]"),
        (with_("selection.sample_percent", 120), "selection.sample_percent"),
        (with_("selection.seed", True), "selection.seed"),
        (with_("selection.surprise", 1), "selection.surprise"),
        (with_("waves.kind", "random"), "waves.kind"),
        (with_("waves.sizes", [10, 0]), "waves.sizes[1]"),
        (with_("waves.sizes", []), "waves.sizes"),
        (with_("waves.sizes", [1.5]), "waves.sizes[0]"),
        ({**minimal(), "waves": {"kind": "percent", "percents": [10, 5]}}, "waves.percents[1]"),
        ({**minimal(), "waves": {"kind": "exponential", "factor": 0.5}}, "waves.factor"),
        (
            {**minimal(), "waves": {"kind": "exponential", "base": 5, "max_size": 2}},
            "waves.max_size",
        ),
        (with_("success_percent", "all"), "success_percent"),
        (with_("success_percent", 101), "success_percent"),
        (with_("criteria", [{"kind": "meteor", "percent": 5}]), "criteria[0].kind"),
        (
            with_("criteria", [{"kind": None, "percent": 5, "min_sample": 0}]),
            "criteria[0].min_sample",
        ),
        (with_("criteria", [{"kind": None}]), "criteria[0].percent"),
        (
            with_("criteria", [{"kind": None, "percent": 5, "action": "panic"}]),
            "criteria[0].action",
        ),
        (with_("health", {"soak": -1}), "health.soak"),
        (with_("health", {"soak": 60, "margin_percent": -5}), "health.margin_percent"),
        (with_("station_timeout", 0), "station_timeout"),
        (with_("station_timeout", 1e300), "station_timeout"),
        (with_("windows", [{"start": "25:00", "end": "04:00"}]), "windows[0].start"),
        (with_("windows", [{"start": "22:00", "end": "04:00+02:00"}]), "windows[0].end"),
        (
            with_("windows", [{"start": "22:00", "end": "04:00", "weekdays": [7]}]),
            "windows[0].weekdays[0]",
        ),
        (
            with_("windows", [{"start": "22:00", "end": "04:00", "weekdays": []}]),
            "windows[0].weekdays",
        ),
        (with_("during_transaction", "always"), "during_transaction"),
        (with_("retries", -1), "retries"),
        (with_("retry_interval", "5m"), "retry_interval"),
        (with_("allow_unsigned", "yes"), "allow_unsigned"),
        (with_("max_wait", 0), "max_wait"),
        (with_("download_protocol", "sftp"), "download_protocol"),
        (with_("download_protocol", None), "download_protocol"),
        (with_("download_protocol", "HTTPS"), "download_protocol"),
    ],
)
def test_a_bad_field_raises_policy_error_naming_it(data: object, field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_dict(data)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_not_a_number_is_refused() -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_dict(with_("success_percent", float("nan")))
    assert raised.value.field == "success_percent"


def test_policies_built_in_code_check_themselves_too() -> None:
    with pytest.raises(PolicyError) as raised:
        WavePlan("fixed", sizes=(5, -1))
    assert raised.value.field == "sizes[1]"
    with pytest.raises(PolicyError, match="percent"):
        FailureCriterion(FailureKind.DOWNLOAD, 150.0)
    with pytest.raises(PolicyError) as protocol:
        RolloutPolicy(
            TargetSelection("fam"), WavePlan("fixed", sizes=(1,)), download_protocol="tftp"
        )  # type: ignore[arg-type]
    assert protocol.value.field == "download_protocol"


plans = st.one_of(
    st.builds(
        lambda sizes: WavePlan("fixed", sizes=tuple(sizes)),
        st.lists(st.integers(1, 10_000), min_size=1, max_size=5),
    ),
    st.builds(
        lambda shares: WavePlan("percent", percents=tuple(sorted(set(shares)))),
        st.lists(st.integers(1, 100), min_size=1, max_size=5),
    ),
    st.builds(
        lambda base, factor, after: WavePlan(
            "exponential", base=base, factor=factor, raise_after=after
        ),
        st.integers(1, 100),
        st.floats(1, 10),
        st.integers(1, 100),
    ),
)


@given(
    plans,
    st.floats(0, 100),
    st.integers(0, 100),
    st.integers(1, 10**6).map(lambda s: timedelta(seconds=s)),
    st.lists(
        st.builds(
            MaintenanceWindow,
            st.times().map(lambda t: t.replace(microsecond=0)),
            st.times().map(lambda t: t.replace(microsecond=0)),
            st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(tuple),
        ),
        max_size=3,
    ),
)
def test_every_policy_round_trips_through_json(
    plan: WavePlan,
    success: float,
    retries: int,
    timeout: timedelta,
    windows: list[MaintenanceWindow],
) -> None:
    policy = RolloutPolicy(
        TargetSelection("fam"),
        plan,
        success_percent=success,
        retries=retries,
        station_timeout=timeout,
        windows=tuple(windows),
    )
    assert policy_from_dict(json.loads(json.dumps(policy_to_dict(policy)))) == policy
