from datetime import UTC, datetime, timedelta

import pytest

from enrollment.codes import hash_code
from enrollment.pairing import LockoutPolicy, check_pairing_codes

PEPPER = b"k" * 32
DEVICE_CODE = "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
PACKAGING_CODE = "ZZZZM9XA0B1CDEFGHJKMNPQRSTVW"
HASHES = {
    "device_code_hash": hash_code(DEVICE_CODE, pepper=PEPPER),
    "packaging_code_hash": hash_code(PACKAGING_CODE, pepper=PEPPER),
}
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_both_codes_matching_pairs():
    assert check_pairing_codes(DEVICE_CODE.lower(), f" {PACKAGING_CODE} ", pepper=PEPPER, **HASHES)


@pytest.mark.parametrize(
    ("device", "packaging"),
    [
        (PACKAGING_CODE, PACKAGING_CODE),
        (DEVICE_CODE, DEVICE_CODE),
        (PACKAGING_CODE, DEVICE_CODE),
        ("", PACKAGING_CODE),
        (DEVICE_CODE, "garbage"),
    ],
)
def test_any_wrong_or_swapped_code_fails_without_saying_which(device, packaging):
    assert check_pairing_codes(device, packaging, pepper=PEPPER, **HASHES) is False


def test_codes_hashed_under_another_pepper_do_not_match():
    assert not check_pairing_codes(DEVICE_CODE, PACKAGING_CODE, pepper=b"x" * 32, **HASHES)


def test_the_first_failures_are_free():
    policy = LockoutPolicy(free_attempts=5, base_delay=timedelta(seconds=30))
    for failures in range(5):
        assert policy.locked_until(failures, NOW) is None


def test_delays_double_from_the_base_and_stop_at_the_cap():
    policy = LockoutPolicy(
        free_attempts=5, base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5)
    )
    assert [policy.delay(n) for n in range(5, 11)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
        timedelta(minutes=5),
        timedelta(minutes=5),
    ]
    assert policy.locked_until(7, NOW) == NOW + timedelta(minutes=2)


def test_an_absurd_failure_count_stays_at_the_cap_without_overflow():
    policy = LockoutPolicy()
    assert policy.delay(10**9) == timedelta(hours=1)


def test_a_policy_without_free_attempts_locks_from_the_first_failure():
    assert LockoutPolicy(free_attempts=0).locked_until(0, NOW) == NOW + timedelta(seconds=30)


def test_no_failure_yet_means_no_lock():
    assert LockoutPolicy(free_attempts=0).locked_until(3, None) is None


def test_retry_after_counts_down_to_the_end_of_the_lock():
    policy = LockoutPolicy()
    assert policy.retry_after(6, NOW, now=NOW + timedelta(seconds=15)) == timedelta(seconds=45)
    assert policy.retry_after(6, NOW, now=NOW + timedelta(seconds=60)) is None
    assert policy.retry_after(1, NOW, now=NOW) is None


def test_a_naive_failure_time_is_refused():
    with pytest.raises(ValueError, match="^last_failure_at must carry a time zone$"):
        LockoutPolicy().locked_until(6, datetime(2025, 3, 1, 12, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"free_attempts": -1}, "free_attempts must not be negative"),
        ({"base_delay": timedelta(0)}, "base_delay must be positive"),
        (
            {"base_delay": timedelta(minutes=2), "max_delay": timedelta(minutes=1)},
            "max_delay must not be shorter than base_delay",
        ),
    ],
)
def test_inconsistent_policies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        LockoutPolicy(**kwargs)
