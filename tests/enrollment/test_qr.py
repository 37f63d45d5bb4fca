import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.codes import CODE_LENGTH, CROCKFORD_ALPHABET
from enrollment.errors import InvalidCode, InvalidSerial
from enrollment.qr import (
    LabelKind,
    QrErrorReason,
    QrPayload,
    QrPayloadError,
    decode_pair,
    decode_payload,
    encode_payload,
)

SERIAL = "CL-2024.000123"
CODE = "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
OTHER_CODE = "ZZZZM9XA0B1CDEFGHJKMNPQRSTVW"
R = QrErrorReason

serials = st.from_regex(r"\A[A-Z0-9][A-Z0-9.\-]{2,24}\Z")
codes = st.text(alphabet=CROCKFORD_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


@given(st.sampled_from(LabelKind), serials, codes)
def test_encoding_then_decoding_a_payload_is_the_identity(kind, serial, code):
    payload = encode_payload(kind, serial, code)
    assert decode_payload(payload) == QrPayload(kind, serial, code)
    assert decode_payload(payload, expected=kind) == QrPayload(kind, serial, code)


@given(st.sampled_from(LabelKind), serials, codes)
def test_payloads_fit_the_qr_alphanumeric_mode(kind, serial, code):
    payload = encode_payload(kind, serial, code)
    assert set(payload) <= QR_ALPHANUMERIC
    assert len(payload) <= 65


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_decoder(text):
    try:
        decode_payload(text)
    except QrPayloadError as error:
        assert error.reason in set(R)


@given(st.sampled_from(LabelKind), serials, codes, st.data())
def test_every_truncation_of_a_payload_is_refused(kind, serial, code, data):
    payload = encode_payload(kind, serial, code)
    cut = data.draw(st.integers(min_value=1, max_value=len(payload) - 1))
    with pytest.raises(QrPayloadError) as caught:
        decode_payload(payload[:cut])
    assert caught.value.reason in {R.TRUNCATED, R.CHECKSUM_MISMATCH}


@given(st.sampled_from(LabelKind), serials, codes, st.data())
def test_every_single_character_change_is_detected(kind, serial, code, data):
    payload = encode_payload(kind, serial, code)
    position = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    replacement = data.draw(st.sampled_from(sorted(QR_ALPHANUMERIC - {payload[position]})))
    altered = payload[:position] + replacement + payload[position + 1 :]
    with pytest.raises(QrPayloadError):
        decode_payload(altered)


def test_the_payload_has_the_documented_layout():
    payload = encode_payload(
        LabelKind.DEVICE, "cl-2024.000123", "7kq2-m9xa-0b1c-defg-hjkm-npqr-stvw"
    )
    prefix, kind, serial, code, check = payload.split(":")
    assert (prefix, kind, serial, code) == ("CL1", "D", SERIAL, CODE)
    assert len(check) == 4


def test_surrounding_whitespace_from_scanners_is_ignored():
    payload = encode_payload(LabelKind.PACKAGING, SERIAL, CODE)
    assert decode_payload(f" {payload}\r\n").kind is LabelKind.PACKAGING


def test_encoding_refuses_a_bad_serial_or_code():
    with pytest.raises(InvalidSerial):
        encode_payload(LabelKind.DEVICE, "A:B", CODE)
    with pytest.raises(InvalidCode):
        encode_payload(LabelKind.DEVICE, SERIAL, "short")


def _forge(body):
    """A payload with a correct checksum (as documented: CRC-32, low 20 bits, 4 symbols)."""
    value = zlib.crc32(body.encode()) & 0xFFFFF
    check = "".join(CROCKFORD_ALPHABET[(value >> shift) & 31] for shift in (15, 10, 5, 0))
    return f"{body}:{check}"


@pytest.mark.parametrize(
    ("text", "reason", "detail"),
    [
        ("", R.UNKNOWN_FORMAT, "empty payload"),
        ("https://example.com/station/1", R.UNKNOWN_FORMAT, "not a Chargeline label"),
        ("WIFI:S:home;T:WPA;P:secret;;", R.UNKNOWN_FORMAT, "not a Chargeline label"),
        ("CLX:D:A", R.UNKNOWN_FORMAT, "not a Chargeline label"),
        ("CL1:" + "A" * 200, R.UNKNOWN_FORMAT, "204 characters; not a Chargeline label"),
        (
            "CL2:D:SN123:ABC:DEFG",
            R.UNSUPPORTED_VERSION,
            "label format version 2; this platform reads 1",
        ),
        ("CL01:D:SN123", R.UNSUPPORTED_VERSION, "label format version 01; this platform reads 1"),
        ("CL", R.TRUNCATED, "payload ends inside its prefix"),
        ("CL1:", R.TRUNCATED, "1 of 4 fields present"),
        (f"CL1:D:{SERIAL}:{CODE[:10]}", R.TRUNCATED, "3 of 4 fields present"),
        (f"CL1:D:{SERIAL}:{CODE}:AB", R.TRUNCATED, "checksum cut short"),
        (f"CL1:D:{SERIAL}:{CODE}:0000:X", R.UNKNOWN_FORMAT, "5 fields; 4 expected"),
        (f"CL1:D:{SERIAL}:{CODE}:0000", R.CHECKSUM_MISMATCH, "payload was altered or misread"),
        (f"CL1:D:{SERIAL}:{CODE}:00000", R.CHECKSUM_MISMATCH, "payload was altered or misread"),
        (f"CL1:D:SÉRIAL:{CODE}:0000", R.CHECKSUM_MISMATCH, "payload was altered or misread"),
        (_forge(f"CL1:X:{SERIAL}:{CODE}"), R.UNKNOWN_FORMAT, "unknown label kind 'X'"),
        (
            _forge(f"CL1:D:A_B:{CODE}"),
            R.BAD_SERIAL,
            "serial number has '_' at position 2; "
            "only letters A-Z, digits, '.' and '-' are allowed",
        ),
        (_forge(f"CL1:D:cl-1:{CODE}"), R.BAD_SERIAL, "serial number is not in canonical form"),
        (_forge(f"CL1:D:{SERIAL}:{CODE[:-1]}"), R.BAD_CODE, "security code is malformed"),
        (_forge(f"CL1:D:{SERIAL}:{CODE[:-1]}U"), R.BAD_CODE, "security code is malformed"),
    ],
)
def test_bad_payloads_are_refused_with_a_distinct_reason(text, reason, detail):
    with pytest.raises(QrPayloadError) as caught:
        decode_payload(text)
    assert (caught.value.reason, caught.value.detail) == (reason, detail)
    assert str(caught.value) == f"{reason.value}: {detail}"


def test_a_label_of_the_other_kind_is_refused_as_wrong_kind():
    packaging = encode_payload(LabelKind.PACKAGING, SERIAL, CODE)
    with pytest.raises(QrPayloadError) as caught:
        decode_payload(packaging, expected=LabelKind.DEVICE)
    assert caught.value.reason is R.WRONG_KIND
    assert caught.value.detail == "packaging label where device label expected"


def test_a_matching_pair_decodes_to_both_labels():
    device, packaging = decode_pair(
        encode_payload(LabelKind.DEVICE, SERIAL, CODE),
        encode_payload(LabelKind.PACKAGING, SERIAL, OTHER_CODE),
    )
    assert device == QrPayload(LabelKind.DEVICE, SERIAL, CODE)
    assert packaging == QrPayload(LabelKind.PACKAGING, SERIAL, OTHER_CODE)


def test_a_swapped_pair_is_detected_by_kind():
    device = encode_payload(LabelKind.DEVICE, SERIAL, CODE)
    packaging = encode_payload(LabelKind.PACKAGING, SERIAL, OTHER_CODE)
    with pytest.raises(QrPayloadError) as caught:
        decode_pair(packaging, device)
    assert caught.value.reason is R.WRONG_KIND


def test_labels_of_two_different_stations_are_refused_as_a_pair():
    with pytest.raises(QrPayloadError) as caught:
        decode_pair(
            encode_payload(LabelKind.DEVICE, SERIAL, CODE),
            encode_payload(LabelKind.PACKAGING, "CL-OTHER", OTHER_CODE),
        )
    assert caught.value.reason is R.SERIAL_MISMATCH
    assert caught.value.detail == (f"device label is for {SERIAL}, packaging label for CL-OTHER")
