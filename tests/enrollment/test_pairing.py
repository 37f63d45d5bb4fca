import pytest

from enrollment.codes import hash_code
from enrollment.pairing import check_pairing_codes

PEPPER = b"k" * 32
DEVICE_CODE = "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
PACKAGING_CODE = "ZZZZM9XA0B1CDEFGHJKMNPQRSTVW"
HASHES = {
    "device_code_hash": hash_code(DEVICE_CODE, pepper=PEPPER),
    "packaging_code_hash": hash_code(PACKAGING_CODE, pepper=PEPPER),
}


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
