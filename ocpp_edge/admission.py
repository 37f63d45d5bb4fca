"""Who may open an OCPP connection: the handshake rules of security profiles 1-3, as pure code.

OCPP 1.6 Security Whitepaper Ed.3 section 2 and OCPP 2.0.1 Part 2 A00: profile 1 is HTTP Basic
over ws, profile 2 HTTP Basic over TLS, profile 3 TLS with a client certificate. A station's
profile is recorded and never silently lowered (A00.FR.604): a profile-3 station offering a
password, or a profile-2 station on the plain port, is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

STATION_ID = re.compile(r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$")  # 2.0.1 identifierString, 48 max


class SecurityProfile(IntEnum):
    BASIC = 1
    BASIC_TLS = 2
    CLIENT_CERTIFICATE = 3


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """What a station offered at the WebSocket handshake."""

    station_id: str
    basic_user: str | None
    password: str | None
    tls: bool
    client_certificate: bytes | None  # DER, when the TLS peer presented one
    remote: str


@dataclass(frozen=True, slots=True)
class Admission:
    """The gatekeeper's answer: admit at ``profile``, or refuse with an HTTP status and reason."""

    accepted: bool
    status: int = 101
    reason: str = ""
    profile: SecurityProfile = SecurityProfile.BASIC
    pending: bool = False

    @classmethod
    def refuse(cls, status: int, reason: str) -> Admission:
        return cls(False, status, reason)

    @classmethod
    def admit(cls, profile: SecurityProfile, *, pending: bool = False) -> Admission:
        return cls(True, 101, "", profile, pending)


def check_transport(request: HandshakeRequest, recorded: SecurityProfile) -> str | None:
    """Why ``request`` does not fit the station's recorded profile, or None when it fits."""
    if recorded is SecurityProfile.BASIC:
        if request.client_certificate is not None:
            return None  # a certificate is stronger; the gatekeeper may raise the profile
        if request.password is None:
            return "HTTP Basic credentials are required"
        return None
    if not request.tls:
        return f"security profile {int(recorded)} requires TLS; connect to the TLS port"
    if recorded is SecurityProfile.BASIC_TLS:
        if request.client_certificate is None and request.password is None:
            return "HTTP Basic credentials are required"
        return None
    if request.client_certificate is None:
        return "security profile 3 requires a client certificate; passwords are not accepted"
    return None


def check_basic_user(request: HandshakeRequest) -> str | None:
    """The Basic-auth user must be the station id in the URL (OCPP 1.6 SW 2.3.1, A00.FR.203)."""
    if request.basic_user is not None and request.basic_user != request.station_id:
        return "the HTTP Basic user must be the station id"
    return None
