"""Reading a label as scanned or as typed: the printed text reads back to the label's code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.codes import _ALIASES, CODE_LENGTH, CROCKFORD_ALPHABET, format_code
from enrollment.errors import QrErrorReason, QrPayloadError
from enrollment.label_input import read_label, read_pair
from enrollment.labels import Label
from enrollment.qr import LabelKind, QrPayload

CODE = "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
OTHER = "ZZZZ" + CODE[4:]
SERIAL = "CL-2024.000123"

codes = st.text(alphabet=CROCKFORD_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)
serials = st.from_regex(r"[A-Z0-9][A-Z0-9.\-]{2,24}", fullmatch=True)
kinds = st.sampled_from(list(LabelKind))
separators = st.sampled_from(["", " ", "-", "  ", "\u2013", "\u00a0", "\u2212"])
_TYPED_AS = {"0": "0oO", "1": "1iIlL"}


@st.composite
def typed(draw: st.DrawFn, code: str) -> str:
    """``code`` as a person may type it: any case, look-alikes, separators anywhere."""
    out = []
    for symbol in code:
        variants = _TYPED_AS.get(symbol, symbol + symbol.lower())
        out.append(draw(st.sampled_from(variants)) + draw(separators))
    return draw(separators) + "".join(out)


def test_the_alphabet_holds_no_look_alikes_and_every_alias_lands_in_it() -> None:
    assert not set("ILOU") & set(CROCKFORD_ALPHABET)
    assert len(set(CROCKFORD_ALPHABET)) == 32
    assert set(_ALIASES.values()) <= set(CROCKFORD_ALPHABET)


@given(codes, st.data())
def test_a_code_typed_with_any_slip_reads_back_to_itself(code: str, data: st.DataObject) -> None:
    assert read_label(data.draw(typed(code)), expected=LabelKind.PACKAGING) == (None, code)


@given(kinds, serials, codes, st.sampled_from(["\n", " ", "\r\n", "\n\n"]))
def test_the_printed_text_of_a_label_reads_back_to_its_serial_and_code(
    kind: LabelKind, serial: str, code: str, joiner: str
) -> None:
    mac = 0x021A2B3C4D5E if kind is LabelKind.DEVICE else None
    label = Label(kind, serial, code, mac=mac)
    assert read_label(joiner.join(label.text_lines()), expected=kind) == (serial, code)
    lowered = joiner.join(line.lower() for line in label.text_lines())
    assert read_label(lowered, expected=kind) == (serial, code)


@given(kinds, serials, codes)
def test_a_scanned_payload_reads_as_the_qr_decoder_reads_it(
    kind: LabelKind, serial: str, code: str
) -> None:
    payload = Label(kind, serial, code).payload
    assert read_label(payload + "\n", expected=kind) == (serial, code)


@given(st.text(max_size=200), kinds)
def test_arbitrary_text_reads_or_is_refused_with_a_reason(text: str, kind: LabelKind) -> None:
    try:
        serial, code = read_label(text, expected=kind)
    except QrPayloadError as refused:
        assert isinstance(refused.reason, QrErrorReason)
        return
    assert len(code) == CODE_LENGTH and set(code) <= set(CROCKFORD_ALPHABET)
    assert serial is None or serial == serial.upper()


@given(serials, codes, codes)
def test_a_scanned_device_label_names_the_station_for_a_typed_packaging_code(
    serial: str, device_code: str, packaging_code: str
) -> None:
    device = Label(LabelKind.DEVICE, serial, device_code).payload
    assert read_pair(device, format_code(packaging_code).lower()) == (
        QrPayload(LabelKind.DEVICE, serial, device_code),
        QrPayload(LabelKind.PACKAGING, serial, packaging_code),
    )


@pytest.mark.parametrize(
    ("device", "packaging", "serial", "reason"),
    [
        (CODE, OTHER, None, QrErrorReason.MISSING_SERIAL),
        (f"SN {SERIAL} {CODE}", f"SN X{SERIAL} {OTHER}", None, QrErrorReason.SERIAL_MISMATCH),
        (f"SN {SERIAL} {CODE}", OTHER, "OTHER-1", QrErrorReason.SERIAL_MISMATCH),
        (CODE, OTHER, "a_b", QrErrorReason.BAD_SERIAL),
        (f"SN a_b {CODE}", OTHER, None, QrErrorReason.BAD_SERIAL),
        (CODE, f"MAC 02:00:00:00:00:01 {OTHER}", SERIAL, QrErrorReason.WRONG_KIND),
        (f"MAC 02:00 {CODE}", OTHER, SERIAL, QrErrorReason.UNKNOWN_FORMAT),
        (CODE[:-1], OTHER, SERIAL, QrErrorReason.BAD_CODE),
        ("https://example.com/", OTHER, SERIAL, QrErrorReason.UNKNOWN_FORMAT),
        ("CL", OTHER, SERIAL, QrErrorReason.TRUNCATED),
    ],
)
def test_a_pair_that_cannot_be_read_is_refused_with_its_reason(
    device: str, packaging: str, serial: str | None, reason: QrErrorReason
) -> None:
    with pytest.raises(QrPayloadError) as refused:
        read_pair(device, packaging, serial=serial)
    assert refused.value.reason is reason


def test_a_given_serial_is_read_in_any_case() -> None:
    device, packaging = read_pair(CODE, OTHER, serial=SERIAL.lower())
    assert device == QrPayload(LabelKind.DEVICE, SERIAL, CODE)
    assert packaging == QrPayload(LabelKind.PACKAGING, SERIAL, OTHER)
