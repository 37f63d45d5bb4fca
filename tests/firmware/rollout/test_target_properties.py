"""Properties of one station's machine under arbitrary report, answer and boot sequences."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.rollout.model import (
    BootReport,
    CommandAnswer,
    FirmwareStatusReport,
    TargetState,
)
from firmware.rollout.targets import FAILURES, PROGRESS, due, on_answer, on_boot, on_report

from .builders import NEW, OLD, STATION, T0, facts, policy, sent_target

STATUSES = [*PROGRESS, *FAILURES, "Idle", "Bogus"]
ANSWERS = ["Accepted", "Rejected", "AcceptedCanceled", "Timeout", "Offline", "NotSupported"]

events = st.one_of(
    st.tuples(st.just("report"), st.sampled_from(STATUSES), st.sampled_from([None, 7, 8])),
    st.tuples(st.just("answer"), st.sampled_from(ANSWERS), st.sampled_from([7, 8])),
    st.tuples(st.just("boot"), st.sampled_from([OLD, "9.9.9", None]), st.none()),
    st.tuples(st.just("tick"), st.integers(0, 200), st.none()),
)


@settings(deadline=None)  # data-heavy examples; slow under tracing
@given(st.lists(events, max_size=40))
def test_no_sequence_without_a_boot_on_the_new_version_makes_a_target_succeed(
    sequence: list[tuple[str, object, object]],
) -> None:
    target = sent_target(request_id=7, ocpp="1.6")
    now = T0
    p = policy(allow_unsigned=True)
    previous = target.state
    for kind, value, request_id in sequence:
        now += timedelta(minutes=1)
        if kind == "report":
            on_report(target, FirmwareStatusReport(STATION, request_id, str(value), now), now)  # type: ignore[arg-type]
        elif kind == "answer":
            on_answer(target, CommandAnswer(STATION, request_id, str(value), now), now, policy=p)  # type: ignore[arg-type]
        elif kind == "boot":
            on_boot(target, BootReport(STATION, value, None, now), now)  # type: ignore[arg-type]
        else:
            now += timedelta(minutes=int(value))  # type: ignore[call-overload]
            due(target, facts(ocpp_version="1.6"), p, now, next_request_id=8)
        assert target.state is not TargetState.SUCCEEDED
        if previous in (TargetState.FAILED, TargetState.SKIPPED):
            assert target.state is previous  # final states stay final
        if target.state is TargetState.FAILED:
            assert target.failure is not None
        previous = target.state


@settings(deadline=None)  # data-heavy examples; slow under tracing
@given(st.lists(st.sampled_from(list(PROGRESS)), min_size=1, max_size=20))
def test_progress_reports_never_move_a_target_backwards_and_a_new_boot_confirms(
    statuses: list[str],
) -> None:
    target = sent_target()
    order = list(TargetState)
    for status in statuses:
        before = order.index(target.state)
        on_report(target, FirmwareStatusReport(STATION, 7, status, T0), T0)
        assert order.index(target.state) >= before
    on_boot(target, BootReport(STATION, NEW, "FirmwareUpdate", T0), T0)
    assert target.state is TargetState.SUCCEEDED
