"""The CSR request schedule: bounded attempts, waits doubling up to a ceiling."""

from __future__ import annotations

import pytest

from enrollment.csr_requests import CsrRequestPolicy


def test_waits_grow_exponentially_to_the_ceiling() -> None:
    policy = CsrRequestPolicy(attempts=5, first_wait_s=30, factor=2, max_wait_s=100)
    assert policy.waits() == (30.0, 60.0, 100.0, 100.0, 100.0)
    assert len(CsrRequestPolicy().waits()) == 6


@pytest.mark.parametrize(
    "bad",
    [{"attempts": 0}, {"first_wait_s": 0}, {"factor": 0.5}, {"first_wait_s": 10, "max_wait_s": 5}],
)
def test_a_policy_that_never_asks_or_shrinks_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CsrRequestPolicy(**bad)  # type: ignore[arg-type]
