"""The payloads of the two QR labels.

Format, version 1 (every character is in the QR alphanumeric set, so the payload is encoded in
the dense alphanumeric mode; at most 65 characters, QR version 4 at level M)::

    CL1:<kind>:<serial>:<code>:<check>

- ``CL1``: format and version. A newer app may meet ``CL2`` and must say "update the app",
  not "bad code", hence the separate ``UNSUPPORTED_VERSION`` reason.
- ``<kind>``: ``D`` for the device label (stuck on the station), ``P`` for the packaging label.
- ``<serial>``: the canonical serial number (:mod:`enrollment.identifiers`).
- ``<code>``: the 28-symbol canonical security code, without dashes (:mod:`enrollment.codes`).
- ``<check>``: CRC-32 of everything before the last ``:``, low 20 bits in 4 Crockford symbols.
  QR codes carry their own error correction; this check catches payloads cut short or
  mangled on their way through the app (copy-paste, manual entry, a buggy scanner library).

The app posts both payloads when pairing; :func:`decode_pair` refuses a swapped pair
(``WRONG_KIND``) and two labels of different stations (``SERIAL_MISMATCH``).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import StrEnum

from enrollment.codes import CODE_LENGTH, CROCKFORD_ALPHABET, normalize_code
from enrollment.errors import InvalidSerial, QrErrorReason, QrPayloadError
from enrollment.identifiers import parse_serial

__all__ = [
    "FORMAT_VERSION",
    "LabelKind",
    "QrErrorReason",
    "QrPayload",
    "QrPayloadError",
    "decode_pair",
    "decode_payload",
    "encode_payload",
]

FORMAT_VERSION = 1
_PREFIX = f"CL{FORMAT_VERSION}:"
_CHECK_LENGTH = 4
_MAX_PAYLOAD = 128
_VERSION_PREFIX = re.compile(r"CL([0-9]+):", re.ASCII)
_CODE_SYMBOLS = frozenset(CROCKFORD_ALPHABET)


class LabelKind(StrEnum):
    """Which label a payload belongs to."""

    DEVICE = "D"
    PACKAGING = "P"


@dataclass(frozen=True, slots=True)
class QrPayload:
    """A decoded label: its kind, the station's serial and the canonical security code."""

    kind: LabelKind
    serial: str
    code: str


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode("ascii")) & 0xFFFFF
    return "".join(CROCKFORD_ALPHABET[(value >> shift) & 0x1F] for shift in (15, 10, 5, 0))


def encode_payload(kind: LabelKind, serial: str, code: str) -> str:
    """The QR payload for a label.

    Raises:
        InvalidSerial: the serial number is not valid.
        InvalidCode: the code does not normalise.
    """
    body = f"{_PREFIX}{kind.value}:{parse_serial(serial)}:{normalize_code(code)}"
    return f"{body}:{_checksum(body)}"


def decode_payload(text: str, *, expected: LabelKind | None = None) -> QrPayload:
    """Decode a scanned payload; with ``expected``, also require that kind of label.

    Surrounding whitespace (scanners often append a newline) is ignored; nothing else is
    forgiven.

    Raises:
        QrPayloadError: with the reason ``UNKNOWN_FORMAT``, ``UNSUPPORTED_VERSION``,
            ``TRUNCATED``, ``CHECKSUM_MISMATCH``, ``WRONG_KIND``, ``BAD_SERIAL`` or
            ``BAD_CODE``.
    """
    candidate = text.strip(" \t\r\n")
    if len(candidate) > _MAX_PAYLOAD:
        raise QrPayloadError(
            QrErrorReason.UNKNOWN_FORMAT, f"{len(candidate)} characters; not a Chargeline label"
        )
    if not candidate:
        raise QrPayloadError(QrErrorReason.UNKNOWN_FORMAT, "empty payload")
    if len(candidate) < len(_PREFIX) and _PREFIX.startswith(candidate):
        raise QrPayloadError(QrErrorReason.TRUNCATED, "payload ends inside its prefix")
    version = _VERSION_PREFIX.match(candidate)
    if version is None:
        raise QrPayloadError(QrErrorReason.UNKNOWN_FORMAT, "not a Chargeline label")
    if version.group(1) != str(FORMAT_VERSION):
        raise QrPayloadError(
            QrErrorReason.UNSUPPORTED_VERSION,
            f"label format version {version.group(1)}; this platform reads {FORMAT_VERSION}",
        )
    fields = candidate[len(_PREFIX) :].split(":")
    if len(fields) < 4:
        raise QrPayloadError(QrErrorReason.TRUNCATED, f"{len(fields)} of 4 fields present")
    if len(fields) > 4:
        raise QrPayloadError(QrErrorReason.UNKNOWN_FORMAT, f"{len(fields)} fields; 4 expected")
    kind_text, serial_text, code_text, check = fields
    if len(check) < _CHECK_LENGTH:
        raise QrPayloadError(QrErrorReason.TRUNCATED, "checksum cut short")
    body = candidate[: candidate.rindex(":")]
    if not body.isascii() or check != _checksum(body):
        raise QrPayloadError(QrErrorReason.CHECKSUM_MISMATCH, "payload was altered or misread")
    return _validated(kind_text, serial_text, code_text, expected)


def _validated(
    kind_text: str, serial_text: str, code_text: str, expected: LabelKind | None
) -> QrPayload:
    try:
        kind = LabelKind(kind_text)
    except ValueError:
        raise QrPayloadError(
            QrErrorReason.UNKNOWN_FORMAT, f"unknown label kind {kind_text!r}"
        ) from None
    if expected is not None and kind is not expected:
        raise QrPayloadError(
            QrErrorReason.WRONG_KIND,
            f"{kind.name.lower()} label where {expected.name.lower()} label expected",
        )
    try:
        serial = parse_serial(serial_text)
    except InvalidSerial as error:
        raise QrPayloadError(QrErrorReason.BAD_SERIAL, error.reason) from None
    if serial != serial_text:
        raise QrPayloadError(QrErrorReason.BAD_SERIAL, "serial number is not in canonical form")
    if len(code_text) != CODE_LENGTH or not set(code_text) <= _CODE_SYMBOLS:
        raise QrPayloadError(QrErrorReason.BAD_CODE, "security code is malformed")
    return QrPayload(kind, serial, code_text)


def decode_pair(device_text: str, packaging_text: str) -> tuple[QrPayload, QrPayload]:
    """Decode the two payloads an owner scanned to pair a station.

    Raises:
        QrPayloadError: either payload is invalid, a label sits in the other's place
            (``WRONG_KIND``), or the labels name different stations (``SERIAL_MISMATCH``).
    """
    device = decode_payload(device_text, expected=LabelKind.DEVICE)
    packaging = decode_payload(packaging_text, expected=LabelKind.PACKAGING)
    if device.serial != packaging.serial:
        raise QrPayloadError(
            QrErrorReason.SERIAL_MISMATCH,
            f"device label is for {device.serial}, packaging label for {packaging.serial}",
        )
    return device, packaging
