import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.codes import (
    CODE_LENGTH,
    CROCKFORD_ALPHABET,
    InvalidCode,
    code_matches,
    format_code,
    hash_code,
    new_security_code,
    normalize_code,
)

PEPPER = b"p" * 32
CODE = "7KQ2-M9XA-0B1C-DEFG-HJKM-NPQR-STVW"
canonical_codes = st.text(alphabet=CROCKFORD_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


def test_a_new_code_is_seven_groups_of_four_crockford_symbols():
    code = new_security_code()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}", code)
    assert CODE_LENGTH * 5 >= 128


def test_new_codes_differ():
    assert len({new_security_code() for _ in range(200)}) == 200


def test_normalizing_accepts_case_spaces_dashes_and_crockford_look_alikes():
    typed = "7kq2 m9xa-oblc-defg hjkm-npqr-stvw"
    assert normalize_code(typed) == "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
    assert normalize_code("7KQ2M9XAOBIC DEFGHJKMNPQRSTVW") == "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"


@given(canonical_codes)
def test_formatting_then_normalizing_a_code_is_the_identity(code):
    assert normalize_code(format_code(code)) == code


@given(st.text(max_size=150))
def test_arbitrary_text_normalizes_or_raises_invalid_code(text):
    try:
        code = normalize_code(text)
    except InvalidCode:
        return
    assert len(code) == CODE_LENGTH


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "code has 0 symbols; 28 expected"),
        (CODE[:-1], "code has 27 symbols; 28 expected"),
        (CODE + "X", "code has 29 symbols; 28 expected"),
        ("U" + CODE[1:], "code has 'U' at position 1; not a code symbol"),
        ("7KQ2_" + CODE[5:], "code has '_' at position 5; not a code symbol"),
        ("７" + CODE[1:], "code has '７' at position 1; not a code symbol"),
        ("-" * 113, "code is 113 characters long; far more than a code"),
    ],
)
def test_malformed_codes_are_refused_with_their_reason(text, reason):
    with pytest.raises(InvalidCode) as caught:
        normalize_code(text)
    assert caught.value.reason == reason


def test_the_hash_is_keyed_hex_and_independent_of_how_the_code_was_typed():
    stored = hash_code(CODE, pepper=PEPPER)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert hash_code(CODE.lower().replace("-", " "), pepper=PEPPER) == stored
    assert hash_code(CODE, pepper=b"q" * 32) != stored


def test_a_code_matches_its_own_hash_and_nothing_else():
    stored = hash_code(CODE, pepper=PEPPER)
    assert code_matches(CODE.lower(), stored, pepper=PEPPER)
    assert not code_matches(CODE[:-1] + "X", stored, pepper=PEPPER)
    assert not code_matches(CODE, stored, pepper=b"q" * 32)


@pytest.mark.parametrize("stored", ["", "zz", "é" * 64, "\ud800"])
def test_hostile_stored_hashes_simply_do_not_match(stored):
    assert not code_matches(CODE, stored, pepper=PEPPER)


def test_a_malformed_code_never_matches_even_an_empty_stored_hash():
    assert not code_matches("not a code", "", pepper=PEPPER)


def test_a_short_pepper_is_refused():
    with pytest.raises(ValueError, match="^pepper must be at least 16 bytes$"):
        hash_code(CODE, pepper=b"short")
    with pytest.raises(ValueError, match="^pepper must be at least 16 bytes$"):
        code_matches(CODE, "00", pepper=b"")
