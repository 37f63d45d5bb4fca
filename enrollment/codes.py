"""The two security codes printed on a station's labels.

Every device gets a *device code* (on the station's own label) and a *packaging code* (inside
the packaging); pairing needs both. A code is 28 symbols of Crockford base32
(``0-9 A-Z`` without ``I L O U``), i.e. 140 random bits from :mod:`secrets`, shown in groups of
four (``7KQ2-...``). :func:`normalize_code` accepts what people type: any case, spaces and
dashes (also the typographic ones a phone keyboard or a PDF viewer produces), and Crockford's
look-alikes ``O -> 0`` and ``I``/``L -> 1``. The alphabet itself holds no two symbols that
read alike, so every look-alike has exactly one meaning.

Codes are stored as HMAC-SHA256 under a server-side pepper, never in clear. A slow password
hash (argon2) protects low-entropy secrets from offline guessing; these codes carry 140 bits,
so guessing is hopeless either way and a fast keyed hash is the right tool: it keeps pairing
cheap under load, and the pepper (held outside the database) means a leaked table alone cannot
even be used to test guesses.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256

from enrollment.errors import InvalidCode

__all__ = [
    "CODE_LENGTH",
    "CROCKFORD_ALPHABET",
    "MIN_PEPPER_BYTES",
    "InvalidCode",
    "code_matches",
    "format_code",
    "hash_code",
    "new_security_code",
    "normalize_code",
]

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 28
"""Symbols per code: 28 x 5 = 140 bits."""
GROUP_SIZE = 4
MIN_PEPPER_BYTES = 16

_ALIASES = {"O": "0", "I": "1", "L": "1"}
_SEPARATORS = frozenset(" -\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")
"""Ignored between symbols: space, tab, line breaks, no-break space, ASCII and Unicode dashes."""
_MAX_INPUT = 4 * CODE_LENGTH


def new_security_code() -> str:
    """A fresh random code, grouped for reading (``XXXX-XXXX-...``)."""
    raw = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    """Normalise ``code`` and group it in fours with dashes, as printed on labels.

    Raises:
        InvalidCode: see :func:`normalize_code`.
    """
    canonical = normalize_code(code)
    return "-".join(canonical[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def normalize_code(text: str) -> str:
    """Return the canonical form of a code: 28 upper-case Crockford symbols, no separators.

    Raises:
        InvalidCode: a character outside the alphabet, or the wrong number of symbols.
    """
    if len(text) > _MAX_INPUT:
        raise InvalidCode(f"code is {len(text)} characters long; far more than a code")
    symbols: list[str] = []
    for position, char in enumerate(text, start=1):
        if char in _SEPARATORS:
            continue
        upper = char.upper() if char.isascii() else char
        upper = _ALIASES.get(upper, upper)
        if upper not in CROCKFORD_ALPHABET:
            raise InvalidCode(f"code has {char!r} at position {position}; not a code symbol")
        symbols.append(upper)
    if len(symbols) != CODE_LENGTH:
        raise InvalidCode(f"code has {len(symbols)} symbols; {CODE_LENGTH} expected")
    return "".join(symbols)


def hash_code(code: str, *, pepper: bytes) -> str:
    """HMAC-SHA256 of the normalised code under ``pepper``, as 64 lower-case hex digits.

    Raises:
        InvalidCode: the code does not normalise.
        ValueError: the pepper is shorter than :data:`MIN_PEPPER_BYTES`.
    """
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(f"pepper must be at least {MIN_PEPPER_BYTES} bytes")
    return hmac.new(pepper, normalize_code(code).encode("ascii"), sha256).hexdigest()


def code_matches(code: str, stored_hash: str, *, pepper: bytes) -> bool:
    """Whether ``code`` hashes to ``stored_hash``; the comparison takes constant time.

    A code that does not even normalise is simply a mismatch.

    Raises:
        ValueError: the pepper is shorter than :data:`MIN_PEPPER_BYTES`.
    """
    try:
        candidate = hash_code(code, pepper=pepper)
    except InvalidCode:
        candidate = ""
    return hmac.compare_digest(
        candidate.encode("ascii"), stored_hash.encode("utf-8", "replace")
    ) and bool(candidate)
