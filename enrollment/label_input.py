"""What an owner gives the app for a label: the scanned QR payload or the text printed under it.

A label (:mod:`enrollment.labels`) prints under its QR code ``SN <serial>``, on the device label
``MAC <address>``, and the security code in groups of four. :func:`read_label` accepts either

- the scanned payload (``CL1:...``), decoded strictly by :func:`enrollment.qr.decode_payload`:
  a scanner makes no typos, and the payload's checksum catches a mangled one; or
- typed text: the code alone or together with the printed ``SN``/``MAC`` lines, on one line or
  several, with the typos :func:`enrollment.codes.normalize_code` forgives (case, spaces,
  dashes, ``O``/``0``, ``I``/``L``/``1``).

Typed text carries no checksum and no kind (the field it was typed into says which label it
is): a typo that still gives 28 code symbols is simply a wrong code, and the pairing lockout
counts it like any other (:mod:`enrollment.pairing`).

:func:`read_pair` puts the two labels together. The serial comes from whatever names it (a
scanned label, a typed ``SN`` line, or the serial number the app sends alongside), and all that
name it must agree.
"""

from __future__ import annotations

import re

from enrollment.codes import normalize_code
from enrollment.errors import InvalidCode, InvalidMac, InvalidSerial, QrErrorReason, QrPayloadError
from enrollment.identifiers import parse_mac, parse_serial
from enrollment.qr import FORMAT_VERSION, LabelKind, QrPayload, decode_payload

__all__ = ["read_label", "read_pair"]

_QR_PREFIX = f"CL{FORMAT_VERSION}:"
_QR_START = re.compile(r"CL[0-9]+:", re.ASCII)
_CODE_LIKE = re.compile(r"[0-9A-Za-z\s\-\u00a0\u2010-\u2014\u2212]*")


def _is_scanned(candidate: str) -> bool:
    return bool(_QR_START.match(candidate)) or (
        bool(candidate) and _QR_PREFIX.startswith(candidate) and candidate.startswith("C")
    )


def read_label(text: str, *, expected: LabelKind) -> tuple[str | None, str]:
    """Read one label's input: ``(serial or None, canonical code)``.

    Raises:
        QrPayloadError: a scanned payload that does not decode (its own reasons), typed text
            that names a bad serial (``BAD_SERIAL``), the device label's text where the
            packaging label's is expected (``WRONG_KIND``), a code that does not normalise
            (``BAD_CODE``), or text that is neither a label nor a code (``UNKNOWN_FORMAT``).
    """
    candidate = text.strip(" \t\r\n")
    if _is_scanned(candidate):
        payload = decode_payload(candidate, expected=expected)
        return payload.serial, payload.code
    serial: str | None = None
    has_mac = False
    rest: list[str] = []
    tokens = candidate.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        marker = token.upper()
        if marker in {"SN", "MAC"} and index + 1 < len(tokens):
            value = tokens[index + 1]
            index += 2
            if marker == "SN":
                serial = _serial(value)
            else:
                _mac(value)
                has_mac = True
            continue
        rest.append(token)
        index += 1
    if has_mac and expected is LabelKind.PACKAGING:
        raise QrPayloadError(
            QrErrorReason.WRONG_KIND,
            "the device label's text (it names a MAC address) where the packaging label's "
            "is expected",
        )
    try:
        code = normalize_code(" ".join(rest))
    except InvalidCode as error:
        looks_typed = serial is not None or _CODE_LIKE.fullmatch(candidate) is not None
        if looks_typed:
            raise QrPayloadError(QrErrorReason.BAD_CODE, error.reason) from None
        raise QrPayloadError(
            QrErrorReason.UNKNOWN_FORMAT,
            "not a Chargeline label, nor the security code printed under one",
        ) from None
    return serial, code


def _serial(text: str) -> str:
    try:
        return parse_serial(text)
    except InvalidSerial as error:
        raise QrPayloadError(QrErrorReason.BAD_SERIAL, error.reason) from None


def _mac(text: str) -> None:
    try:
        parse_mac(text)
    except InvalidMac as error:
        raise QrPayloadError(QrErrorReason.UNKNOWN_FORMAT, error.reason) from None


def read_pair(
    device_text: str, packaging_text: str, *, serial: str | None = None
) -> tuple[QrPayload, QrPayload]:
    """Read what an owner scanned or typed for both labels; ``serial`` is an optional extra.

    Raises:
        QrPayloadError: either input is refused (:func:`read_label`), nothing names the
            station (``MISSING_SERIAL``), or the inputs name different stations
            (``SERIAL_MISMATCH``).
    """
    device_serial, device_code = read_label(device_text, expected=LabelKind.DEVICE)
    packaging_serial, packaging_code = read_label(packaging_text, expected=LabelKind.PACKAGING)
    if device_serial and packaging_serial and device_serial != packaging_serial:
        raise QrPayloadError(
            QrErrorReason.SERIAL_MISMATCH,
            f"device label is for {device_serial}, packaging label for {packaging_serial}",
        )
    named = device_serial or packaging_serial
    if serial is not None:
        given = _serial(serial)
        if named is not None and given != named:
            raise QrPayloadError(
                QrErrorReason.SERIAL_MISMATCH,
                f"the labels are for {named}, the serial number given is {given}",
            )
        named = given
    if named is None:
        raise QrPayloadError(
            QrErrorReason.MISSING_SERIAL,
            "typed codes do not name the station: scan one label, or type the serial "
            "number printed as 'SN ...' too",
        )
    return (
        QrPayload(LabelKind.DEVICE, named, device_code),
        QrPayload(LabelKind.PACKAGING, named, packaging_code),
    )
