"""The dashboard's OpenID Connect relying party: discovery, the flow cookie, ID tokens, roles.

The authorization code flow of OpenID Connect Core 1.0 section 3.1 with PKCE (RFC 7636, S256):
:func:`begin` makes the state, nonce and code verifier, which travel in a short-lived cookie
signed with the platform secret (:func:`seal`, :func:`unseal`), so no table holds half-done
logins. :class:`Provider` reads the issuer's discovery document (OpenID Connect Discovery 1.0
section 4), exchanges the code and validates the ID token as Core 3.1.3.7 asks: signature by a
key of the issuer's JWKS, ``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce``.
:func:`map_roles` turns the token's groups or roles into dashboard roles.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

FLOW_LIFETIME = timedelta(minutes=10)
"""How long a started sign-in may take at the provider."""
CLOCK_SKEW = timedelta(seconds=60)
HTTP_TIMEOUT = 10.0
METADATA_SECONDS = 300.0
JWKS_REFRESH_SECONDS = 10.0
"""An unknown ``kid`` refetches the key set, at most this often (the provider rotated keys)."""
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric only: never ``none``, never an HMAC keyed with the (shared) client secret."""
SCOPE = "openid email profile"


class SSOError(Exception):
    """A sign-in that cannot go on; the message is fit for the login page."""


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A started sign-in, as the flow cookie carries it back to the callback."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    started_at: int

    @property
    def challenge(self) -> str:
        return str(create_s256_code_challenge(self.verifier))


MAX_NEXT = 1000
"""A longer page to return to goes to the overview (the flow cookie stays under 4 kB)."""


def begin(next_url: str, *, now: datetime) -> PendingLogin:
    """A new sign-in returning to ``next_url`` (a path on this site, checked by the caller)."""
    return PendingLogin(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),  # 86 characters: RFC 7636 4.1 allows 43-128
        next_url=next_url if len(next_url) <= MAX_NEXT else "/",
        started_at=int(now.timestamp()),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flow_key(secret: str) -> bytes:
    """The flow cookie's HMAC key, derived from the platform secret for this one use."""
    return hmac.new(secret.encode(), b"chargeline dashboard sso flow", hashlib.sha256).digest()


def seal(pending: PendingLogin, key: bytes) -> str:
    payload = _b64(json.dumps(asdict(pending), separators=(",", ":")).encode())
    mac = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def unseal(value: str | None, key: bytes, *, now: datetime) -> PendingLogin:
    """The sign-in a flow cookie names.

    Raises:
        SSOError: no cookie, a forged or damaged one, or one older than ``FLOW_LIFETIME``.
    """
    expired = SSOError("This sign-in was not started here or has expired: please try again.")
    if not value or len(value) > 4000 or value.count(".") != 1:
        raise expired
    payload, mac = value.split(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise expired
    try:
        pending = PendingLogin(**json.loads(_unb64(payload)))
    except (ValueError, TypeError) as exc:
        raise expired from exc
    if not 0 <= now.timestamp() - pending.started_at <= FLOW_LIFETIME.total_seconds():
        raise expired
    return pending


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass
class Provider:
    """One OIDC issuer as the dashboard's client sees it; discovery and keys are cached."""

    issuer: str
    client_id: str
    client_secret: str | None
    _metadata: ProviderMetadata | None = field(default=None, repr=False)
    _metadata_at: float = 0.0
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, repr=False)
    _keys_at: float = -JWKS_REFRESH_SECONDS

    def metadata(self) -> ProviderMetadata:
        """The discovery document; its ``issuer`` must be the configured one (Discovery 4.3)."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_SECONDS:
            return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = _get_json(url)
        try:
            found = ProviderMetadata(
                **{name: str(document[name]) for name in ProviderMetadata.__dataclass_fields__}
            )
        except (KeyError, TypeError) as exc:
            raise SSOError("The sign-in provider's discovery document is incomplete.") from exc
        if found.issuer.rstrip("/") != self.issuer.rstrip("/"):
            raise SSOError("The sign-in provider names another issuer than the one configured.")
        self._metadata, self._metadata_at = found, time.monotonic()
        return found

    def authorization_url(self, pending: PendingLogin, redirect_uri: str) -> str:
        return str(
            prepare_grant_uri(
                self.metadata().authorization_endpoint,
                self.client_id,
                "code",
                redirect_uri=redirect_uri,
                scope=SCOPE,
                state=pending.state,
                nonce=pending.nonce,
                code_challenge=pending.challenge,
                code_challenge_method="S256",
            )
        )

    def exchange(self, code: str, pending: PendingLogin, redirect_uri: str) -> str:
        """Trade the code (and the PKCE verifier) for tokens; returns the raw ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        headers = {"Accept": "application/json"}
        if self.client_secret:  # client_secret_basic, form-encoded first (RFC 6749 2.3.1)
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:  # a public client
            form["client_id"] = self.client_id
        try:
            answer = httpx.post(
                self.metadata().token_endpoint, data=form, headers=headers, timeout=HTTP_TIMEOUT
            )
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SSOError("The sign-in provider did not answer: please try again.") from exc
        if not isinstance(body, dict):
            raise SSOError("The sign-in provider answered something unreadable.")
        if answer.status_code != 200 or "error" in body:
            reason = str(body.get("error", answer.status_code))[:100]
            raise SSOError(f"The sign-in provider refused the sign-in code ({reason}).")
        token = body.get("id_token")
        if not isinstance(token, str):
            raise SSOError("The sign-in provider sent no ID token.")
        return token

    def validate(self, token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """The ID token's claims, once every check of Core 3.1.3.7 passed.

        Raises:
            SSOError: forged, expired, for another client, from another issuer, or replayed.
        """
        issuer = self.metadata().issuer
        try:
            header = jwt.get_unverified_header(token)
            key = self._key(header.get("kid"), str(header.get("alg", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(SIGNING_ALGORITHMS),
                audience=self.client_id,
                issuer=issuer,
                # exp, iat and nbf are checked below against the platform's clock
                options={
                    "require": ["iss", "sub", "aud", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise SSOError("The ID token was issued to another client.") from exc
        except jwt.InvalidIssuerError as exc:
            raise SSOError("The ID token comes from another issuer.") from exc
        except jwt.PyJWTError as exc:
            raise SSOError(f"The ID token is not valid ({exc}).") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SSOError("The ID token was issued to another client.")
        moment = now.timestamp()
        skew = CLOCK_SKEW.total_seconds()
        if not isinstance(claims["exp"], int | float) or claims["exp"] + skew <= moment:
            raise SSOError("The ID token has expired: please sign in again.")
        if not isinstance(claims["iat"], int | float) or claims["iat"] - skew > moment:
            raise SSOError("The ID token was issued in the future: check the clocks.")
        if (
            not isinstance(claims.get("nbf", 0), int | float)
            or claims.get("nbf", 0) - skew > moment
        ):
            raise SSOError("The ID token is not valid yet: check the clocks.")
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise SSOError("The ID token does not belong to this sign-in (nonce).")
        return claims

    def _key(self, kid: object, alg: str) -> jwt.PyJWK:
        if alg not in SIGNING_ALGORITHMS:
            raise SSOError(f"The ID token is signed with an algorithm not accepted ({alg[:20]}).")
        name = kid if isinstance(kid, str) else ""
        if name not in self._keys and time.monotonic() - self._keys_at >= JWKS_REFRESH_SECONDS:
            self._keys = _key_set(_get_json(self.metadata().jwks_uri))
            self._keys_at = time.monotonic()
        if name in self._keys:
            return self._keys[name]
        if not name and len(self._keys) == 1:  # a provider with one key may leave out the kid
            return next(iter(self._keys.values()))
        raise SSOError("The ID token is signed with a key the provider does not publish.")


def _key_set(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    try:
        keys = jwt.PyJWKSet.from_dict(document).keys
    except jwt.PyJWTError as exc:
        raise SSOError("The sign-in provider publishes no usable signing key.") from exc
    return {str(key.key_id or ""): key for key in keys if key.public_key_use in (None, "sig")}


def _get_json(url: str) -> dict[str, Any]:
    try:
        answer = httpx.get(url, headers={"Accept": "application/json"}, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SSOError("The sign-in provider cannot be reached: please try again later.") from exc
    if not isinstance(document, dict):
        raise SSOError("The sign-in provider answered something unreadable.")
    return document


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The strings under a claim: its exact name first (``cognito:groups``, URL-named claims),
    else a dotted path into nested objects (``realm_access.roles``)."""
    value: Any = claims.get(path)
    if value is None and "." in path:
        value = claims
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def map_roles(
    claims: dict[str, Any], role_claims: tuple[str, ...], role_map: dict[str, str]
) -> frozenset[str]:
    """The dashboard roles the provider's values grant through ``role_map`` (others: none)."""
    return frozenset(
        role_map[value]
        for path in role_claims
        for value in claim_values(claims, path)
        if value in role_map
    )
