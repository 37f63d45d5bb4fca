"""Download tokens: what they bind, when they are valid, and that nothing else passes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.downloads import (
    CLOCK_SKEW,
    DownloadGrant,
    LinkExpired,
    LinkForged,
    LinkNotYetValid,
    check_window,
    decode_token,
    derive_key,
    encode_token,
    hash_secret,
    new_ftp_login,
    safe_file_name,
    secret_matches,
)

KEY = derive_key("test-secret-0123456789-0123456789-abcdef")
START = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
GRANT = DownloadGrant(7, "WB11-000001", 4242, START, START + timedelta(hours=3))


def test_a_token_carries_image_station_target_and_window() -> None:
    token = encode_token(KEY, GRANT)
    assert decode_token(KEY, token) == GRANT
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token


def test_a_token_without_target_decodes_to_none() -> None:
    grant = DownloadGrant(7, "S", None, START, START + timedelta(minutes=5))
    assert decode_token(KEY, encode_token(KEY, grant)).target_id is None


def test_a_token_for_the_longest_station_id_stays_short() -> None:
    grant = DownloadGrant(2**32 - 1, "S" * 48, 2**63 - 1, START, START + timedelta(days=30))
    token = encode_token(KEY, grant)
    assert len(token) <= 120
    assert decode_token(KEY, token) == grant


def flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("index", [0, 1, 5, 13, 17, 21, 26, -1])
def test_an_altered_byte_anywhere_is_refused(index: int) -> None:
    with pytest.raises(LinkForged):
        decode_token(KEY, flip(encode_token(KEY, GRANT), index))


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = encode_token(derive_key("another-secret-0123456789-0123456789"), GRANT)
    with pytest.raises(LinkForged, match="signature does not match"):
        decode_token(KEY, other)


def test_a_station_cannot_take_another_stations_token_by_editing_it() -> None:
    token = encode_token(KEY, GRANT)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    edited = raw.replace(b"WB11-000001", b"WB11-000002")
    forged = base64.urlsafe_b64encode(edited).rstrip(b"=").decode()
    with pytest.raises(LinkForged):
        decode_token(KEY, forged)


@pytest.mark.parametrize(
    "token", ["", "x", "NOSUCH", "a" * 201, "é" * 30, "!!!!", encode_token(KEY, GRANT)[:-3]]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(LinkForged):
        decode_token(KEY, token)


@given(st.text(max_size=300))
def test_any_text_is_either_a_grant_or_refused_as_forged(token: str) -> None:
    try:
        grant = decode_token(KEY, token)
    except LinkForged:
        return
    assert encode_token(KEY, grant) == token  # only what we signed gets through


def test_the_window_runs_from_retrieve_time_through_valid_until() -> None:
    check_window(GRANT, GRANT.valid_from)
    check_window(GRANT, GRANT.valid_from - CLOCK_SKEW)  # a station clock a minute ahead
    check_window(GRANT, GRANT.valid_until)
    with pytest.raises(LinkNotYetValid, match="valid from 2026-12-02T02:00:00"):
        check_window(GRANT, GRANT.valid_from - CLOCK_SKEW - timedelta(seconds=1))
    with pytest.raises(LinkExpired, match="expired at 2026-12-02T05:00:00"):
        check_window(GRANT, GRANT.valid_until + timedelta(seconds=1))


@pytest.mark.parametrize(
    "grant",
    [
        DownloadGrant(7, "", None, START, START + timedelta(hours=1)),
        DownloadGrant(7, "S" * 49, None, START, START + timedelta(hours=1)),
        DownloadGrant(0, "S", None, START, START + timedelta(hours=1)),
        DownloadGrant(2**32, "S", None, START, START + timedelta(hours=1)),
        DownloadGrant(7, "S", -1, START, START + timedelta(hours=1)),
        DownloadGrant(7, "S", None, START, START),
        DownloadGrant(7, "S", None, START.replace(tzinfo=None), START + timedelta(hours=1)),
    ],
)
def test_grants_a_token_cannot_carry_are_refused(grant: DownloadGrant) -> None:
    with pytest.raises(ValueError):
        encode_token(KEY, grant)


def test_ftp_logins_are_fresh_url_safe_and_stored_hashed() -> None:
    logins = {new_ftp_login() for _ in range(200)}
    assert len(logins) == 200
    for user, password in logins:
        assert user.isalnum() and len(user) == 14
        assert len(password) == 24 and all(c.isalnum() or c in "-_" for c in password)
    user, password = next(iter(logins))
    stored = hash_secret(password)
    assert password not in stored
    assert secret_matches(password, stored)
    assert not secret_matches(password + "x", stored)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("wb11-1.2.0.bin", "wb11-1.2.0.bin"),
        ("../../etc/passwd", "etc-passwd"),
        ("fw image (final).tar.gz", "fw-image-final-.tar.gz"),
        ("...", "firmware-1.2.0.bin"),
        ("x" * 300 + ".bin", "x" * 60 + ".bin"),
    ],
)
def test_file_names_in_urls_are_short_and_safe(filename: str, expected: str) -> None:
    assert safe_file_name(filename, "1.2.0") == expected
