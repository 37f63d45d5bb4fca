"""JWT access tokens: issued by the platform (HS256) or by an external OIDC issuer (JWKS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt

ROLES = frozenset({"admin", "support", "manufacturing", "owner", "guest"})


class InvalidToken(Exception):
    """The bearer token is missing, malformed, forged, expired or meant for someone else."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (``kind='user'``) or an OAuth2 client (``kind='client'``)."""

    subject: str
    kind: str
    roles: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def actor_name(self) -> str:
        return f"{self.kind}:{self.subject}"


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta

    def issue(self, principal: Principal, *, now: datetime) -> str:
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "kind": principal.kind,
            "roles": sorted(principal.roles),
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("token is not meant for this audience") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        return _principal(claims, kind=str(claims.get("kind", "user")))


@dataclass
class OIDCVerifier:
    """Validates tokens of an external issuer (Keycloak, Cognito) against its JWKS."""

    issuer: str
    audience: str
    jwks_url: str
    _client: jwt.PyJWKClient | None = None

    def verify(self, token: str) -> Principal:
        if self._client is None:
            self._client = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300)
        try:
            key = self._client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        return _principal(claims, kind="user", roles=_external_roles(claims))


def _external_roles(claims: dict[str, Any]) -> list[str]:
    """Roles where Keycloak (``realm_access.roles``), Cognito or plain tokens put them."""
    found: list[str] = []
    for value in (
        claims.get("roles"),
        (claims.get("realm_access") or {}).get("roles"),
        claims.get("cognito:groups"),
    ):
        if isinstance(value, list):
            found.extend(str(v) for v in value)
    return found


def _principal(claims: dict[str, Any], *, kind: str, roles: list[str] | None = None) -> Principal:
    raw = roles if roles is not None else claims.get("roles", [])
    if not isinstance(raw, list):
        raise InvalidToken("invalid token: roles must be a list")
    return Principal(
        subject=str(claims["sub"]),
        kind=kind,
        roles=frozenset(str(r) for r in raw) & ROLES,
        claims=claims,
    )
