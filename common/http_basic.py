"""HTTP Basic credentials (RFC 7617) from an ``Authorization`` header."""

from __future__ import annotations

import base64
import binascii


class MalformedBasic(ValueError):
    """The header says ``Basic`` but holds no base64 ``user:password``."""


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic ...`` -> (user, password); None when absent or another scheme.

    Raises:
        MalformedBasic: the scheme is Basic but the credentials do not decode to ``user:pass``.
    """
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise MalformedBasic("malformed Basic credentials") from exc
    user, sep, password = decoded.partition(":")
    if not sep:
        raise MalformedBasic("Basic credentials without a colon")
    return user, password
