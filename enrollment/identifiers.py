"""Serial numbers and MAC addresses.

Serial numbers
    A station's serial number is its identity everywhere: ``chargePointSerialNumber`` in the
    OCPP 1.6 BootNotification (CiString25Type, at most 25 characters), ``serialNumber`` of the
    2.0.1 ChargingStationType (string[25]), the last segment of the OCPP-J connection URL
    (``/ocpp/{id}``, an identifierString of at most 48 characters in which ``:`` is forbidden
    because it separates HTTP Basic credentials), and the CN of the station certificate (1.6
    Security Whitepaper, 2.0.1 A00). The accepted form is ``^[A-Z0-9][A-Z0-9.-]{2,24}$``:
    3 to 25 characters, a letter or digit first. ``_`` is left out so the whole QR payload stays
    in the QR alphanumeric mode (digits, upper-case letters and `` $%*+-./:``), which is denser.
    Serials are case-insensitive: input is upper-cased (ASCII only), and the upper-case form is
    canonical, so the gateway must compare canonical forms. Surrounding whitespace is dropped.

MAC addresses
    Handled as 48-bit integers. :func:`parse_mac` accepts ``AA:BB:CC:DD:EE:FF``,
    ``aa-bb-cc-dd-ee-ff``, ``aabb.ccdd.eeff`` and bare ``aabbccddeeff``; :func:`format_mac`
    writes the colon form in upper case. :class:`MacRange` is a pool of unicast addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from enrollment.errors import InvalidMac, InvalidMacRange, InvalidSerial, MacPoolExhausted

__all__ = [
    "check_lot",
    "MAX_MAC_RANGE_SIZE",
    "SERIAL_MAX_LENGTH",
    "SERIAL_MIN_LENGTH",
    "InvalidMac",
    "InvalidMacRange",
    "InvalidSerial",
    "MacPoolExhausted",
    "MacRange",
    "format_mac",
    "parse_mac",
    "parse_serial",
    "nth_address",
]

SERIAL_MIN_LENGTH = 3
SERIAL_MAX_LENGTH = 25
_SERIAL_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SERIAL_CHARS = _SERIAL_FIRST | frozenset(".-")

_MAC_BITS = 48
_MAC_MAX = (1 << _MAC_BITS) - 1
_MULTICAST_BIT = 1 << 40  # least significant bit of the first octet (IEEE 802, I/G bit)
MAX_MAC_RANGE_SIZE = 1 << 24
"""Largest pool accepted: one IEEE MA-L block. Anything larger is almost surely a typo."""

_HEX = "[0-9A-Fa-f]"
_MAC_FORMS = (
    re.compile(rf"{_HEX}{{2}}(?::{_HEX}{{2}}){{5}}"),
    re.compile(rf"{_HEX}{{2}}(?:-{_HEX}{{2}}){{5}}"),
    re.compile(rf"{_HEX}{{4}}(?:\.{_HEX}{{4}}){{2}}"),
    re.compile(rf"{_HEX}{{12}}"),
)
_MAC_ALLOWED = frozenset("0123456789abcdefABCDEF:-.")
_MAC_RANGE_MAX_TEXT = 2 * 17 + 3


def check_lot(lot: str) -> str:
    """Lots name URL path segments: no ``/``, ``\\`` or control characters.

    Raises:
        ValueError: empty, longer than 64 characters, or holding such a character.
    """
    if not lot or len(lot) > 64 or any(c in "/\\" or not c.isprintable() for c in lot):
        raise ValueError("a lot has 1-64 printable characters without '/' or '\\'")
    return lot


def parse_serial(text: str) -> str:
    """Return the canonical (upper-case) form of a serial number.

    Raises:
        InvalidSerial: empty, too short, too long, or a character outside ``A-Z 0-9 . -``.
    """
    candidate = text.strip(" \t\r\n")
    if not candidate:
        raise InvalidSerial("serial number is empty")
    if len(candidate) > SERIAL_MAX_LENGTH:
        raise InvalidSerial(
            f"serial number has {len(candidate)} characters; at most {SERIAL_MAX_LENGTH} allowed"
        )
    for position, char in enumerate(candidate, start=1):
        if not char.isascii() or char.upper() not in _SERIAL_CHARS:
            raise InvalidSerial(
                f"serial number has {char!r} at position {position}; "
                "only letters A-Z, digits, '.' and '-' are allowed"
            )
    canonical = candidate.upper()
    if canonical[0] not in _SERIAL_FIRST:
        raise InvalidSerial("serial number must start with a letter or a digit")
    if len(canonical) < SERIAL_MIN_LENGTH:
        raise InvalidSerial(
            f"serial number has {len(canonical)} characters; at least {SERIAL_MIN_LENGTH} needed"
        )
    return canonical


def parse_mac(text: str) -> int:
    """Parse a MAC address into a 48-bit integer.

    Raises:
        InvalidMac: empty, a character that is not a hex digit or separator, the wrong number
            of hex digits, or separators in the wrong places or mixed.
    """
    candidate = text.strip(" \t\r\n")
    if not candidate:
        raise InvalidMac("MAC address is empty")
    for position, char in enumerate(candidate, start=1):
        if char not in _MAC_ALLOWED:
            raise InvalidMac(f"MAC address has {char!r} at position {position}; not a hex digit")
    digits = sum(char not in ":-." for char in candidate)
    if digits != 12:
        raise InvalidMac(f"MAC address has {digits} hex digits; 12 expected")
    if not any(form.fullmatch(candidate) for form in _MAC_FORMS):
        raise InvalidMac(
            "MAC address separators are misplaced; use AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF, "
            "AABB.CCDD.EEFF or AABBCCDDEEFF"
        )
    return int("".join(char for char in candidate if char not in ":-."), 16)


def format_mac(value: int) -> str:
    """Write a 48-bit integer as ``AA:BB:CC:DD:EE:FF``.

    Raises:
        InvalidMac: the value is negative or wider than 48 bits.
    """
    if not 0 <= value <= _MAC_MAX:
        raise InvalidMac(f"{value} is not a 48-bit MAC address")
    raw = f"{value:012X}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def is_multicast(value: int) -> bool:
    """Whether the I/G bit (group address) of a MAC address is set."""
    return bool(value & _MULTICAST_BIT)


@dataclass(frozen=True, slots=True)
class MacRange:
    """An inclusive range ``first..last`` of unicast MAC addresses, used as an allocation pool.

    The whole range lies under one first octet, so no address in it has the multicast bit set;
    it never contains the all-zero address and holds at most :data:`MAX_MAC_RANGE_SIZE`.
    """

    first: int
    last: int

    def __post_init__(self) -> None:
        for value in (self.first, self.last):
            if not 0 <= value <= _MAC_MAX:
                raise InvalidMacRange(f"{value} is not a 48-bit MAC address")
        if self.first > self.last:
            raise InvalidMacRange(
                f"range starts at {format_mac(self.first)}, after its end {format_mac(self.last)}"
            )
        if self.first == 0:
            raise InvalidMacRange("range includes the all-zero MAC address")
        if self.first >> 40 != self.last >> 40:
            raise InvalidMacRange("range spans more than one first octet")
        if is_multicast(self.first):
            raise InvalidMacRange(f"{format_mac(self.first)} is a multicast (group) address")
        if self.size > MAX_MAC_RANGE_SIZE:
            raise InvalidMacRange(
                f"range holds {self.size} addresses; at most {MAX_MAC_RANGE_SIZE} allowed"
            )

    @classmethod
    def parse(cls, text: str) -> MacRange:
        """Parse ``FIRST-LAST``, e.g. ``02:00:00:00:00:00-02:00:00:00:ff:ff``.

        The two addresses may use any form :func:`parse_mac` accepts, including the dashed one:
        the range separator is the one ``-`` that leaves a valid address on both sides.

        Raises:
            InvalidMacRange: the text is not two addresses joined by ``-``, or the range is
                invalid.
        """
        candidate = text.strip(" \t\r\n")
        splits: list[tuple[int, int]] = []
        if len(candidate) > _MAC_RANGE_MAX_TEXT:
            candidate = ""  # no split can succeed; refuse below without quadratic work
        for index, char in enumerate(candidate):
            if char != "-":
                continue
            try:
                splits.append((parse_mac(candidate[:index]), parse_mac(candidate[index + 1 :])))
            except InvalidMac:
                continue
        if len(splits) != 1:
            raise InvalidMacRange("expected FIRST-LAST, e.g. 02:00:00:00:00:00-02:00:00:00:FF:FF")
        first, last = splits[0]
        return cls(first, last)

    @property
    def size(self) -> int:
        """How many addresses the range holds."""
        return self.last - self.first + 1

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.first <= value <= self.last

    def __str__(self) -> str:
        return f"{format_mac(self.first)}-{format_mac(self.last)}"


def nth_address(mac_range: MacRange, index: int) -> int:
    """The ``index``-th address (from 0) of ``mac_range``.

    Raises:
        MacPoolExhausted: ``index`` is at or past the end of the range.
        ValueError: ``index`` is negative.
    """
    if index < 0:
        raise ValueError(f"index must not be negative, got {index}")
    if index >= mac_range.size:
        raise MacPoolExhausted(mac_range.size, index)
    return mac_range.first + index
