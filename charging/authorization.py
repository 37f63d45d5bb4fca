"""Whether an id token may charge (OCPP 2.0.1 C01, 1.6 4.1): a pure decision from its record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from charging.events import IdToken, IdTokenType
from charging.outcomes import AuthorizationDecision, AuthorizationStatus


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What the platform knows of an id token.

    ``stations`` are the stations where the token is valid; ``None`` means every station
    (a fleet-wide token).
    """

    value: str
    status: AuthorizationStatus
    expires_at: datetime | None = None
    group: str | None = None
    stations: frozenset[str] | None = None


def authorize(
    record: TokenRecord | None, *, now: datetime, station_id: str | None = None
) -> AuthorizationDecision:
    """Unknown tokens are Invalid; a token scoped to other stations than ``station_id`` is
    NotAtThisLocation (2.0.1 AuthorizationStatusEnumType; 1.6 has no such value, its adapter
    answers Invalid), whatever its status, so a foreign station learns nothing more of it; a
    past ``expires_at`` makes an accepted token Expired; otherwise the recorded status, with its
    expiry and group when accepted. Without ``station_id`` a scoped token is never valid."""
    if record is None:
        return AuthorizationDecision(AuthorizationStatus.INVALID)
    if record.stations is not None and station_id not in record.stations:
        return AuthorizationDecision(AuthorizationStatus.NOT_AT_THIS_LOCATION)
    if record.status is not AuthorizationStatus.ACCEPTED:
        return AuthorizationDecision(record.status)
    if record.expires_at is not None and record.expires_at <= now:
        return AuthorizationDecision(AuthorizationStatus.EXPIRED)
    group = IdToken(record.group, IdTokenType.ID_TAG) if record.group else None
    return AuthorizationDecision(AuthorizationStatus.ACCEPTED, record.expires_at, group)
