"""Whether an id token may charge (OCPP 2.0.1 C01, 1.6 4.1): a pure decision from its record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from charging.events import IdToken, IdTokenType
from charging.outcomes import AuthorizationDecision, AuthorizationStatus


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What the platform knows of an id token."""

    value: str
    status: AuthorizationStatus
    expires_at: datetime | None = None
    group: str | None = None


def authorize(record: TokenRecord | None, *, now: datetime) -> AuthorizationDecision:
    """Unknown tokens are Invalid; a past ``expires_at`` makes an accepted token Expired;
    otherwise the recorded status, with its expiry and group when accepted."""
    if record is None:
        return AuthorizationDecision(AuthorizationStatus.INVALID)
    if record.status is not AuthorizationStatus.ACCEPTED:
        return AuthorizationDecision(record.status)
    if record.expires_at is not None and record.expires_at <= now:
        return AuthorizationDecision(AuthorizationStatus.EXPIRED)
    group = IdToken(record.group, IdTokenType.ID_TAG) if record.group else None
    return AuthorizationDecision(AuthorizationStatus.ACCEPTED, record.expires_at, group)
