"""The OIDC client's checks without a provider: ID tokens (Core 3.1.3.7), the flow cookie, roles."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.dashboard.oidc_client import (
    Provider,
    ProviderMetadata,
    SSOError,
    begin,
    claim_values,
    flow_key,
    map_roles,
    seal,
    unseal,
)

ISSUER = "https://id.example/realms/ops"
CLIENT = "chargeline-dashboard"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NONCE = "the-nonce-of-this-sign-in"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLIENT_SECRET = "the-client-secret-of-the-dashboard-0123456789"
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def provider() -> Provider:
    public = jwt.PyJWK(
        {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1"}
    )
    return Provider(
        ISSUER,
        CLIENT,
        None,
        _metadata=ProviderMetadata(ISSUER, f"{ISSUER}/auth", f"{ISSUER}/token", f"{ISSUER}/jwks"),
        _metadata_at=time.monotonic(),
        _keys={"k1": public},
        _keys_at=time.monotonic(),
    )


def id_token(key: Any = KEY, alg: str = "RS256", **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "nonce": NONCE,
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, alg, {"kid": "k1"})


def test_a_good_id_token_gives_its_claims() -> None:
    claims = provider().validate(id_token(email="a@example.com"), nonce=NONCE, now=NOW)
    assert (claims["sub"], claims["email"]) == ("user-1", "a@example.com")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (id_token(aud="another-client"), "issued to another client"),
        (id_token(aud=[CLIENT, "another-client"]), "issued to another client"),  # no azp
        (id_token(iss="https://evil.example"), "comes from another issuer"),
        (id_token(exp=int((NOW - timedelta(minutes=2)).timestamp())), "has expired"),
        (id_token(iat=int((NOW + timedelta(minutes=5)).timestamp())), "issued in the future"),
        (id_token(nbf=int((NOW + timedelta(minutes=5)).timestamp())), "not valid yet"),
        (id_token(nonce="another-nonce"), "nonce"),
        (id_token(nonce=None), "nonce"),
        (id_token(key=OTHER_KEY), "not valid"),
        (id_token(key=CLIENT_SECRET, alg="HS256"), "algorithm not accepted"),
        (id_token(sub=None), "not valid"),
        ("not.a.token", "not valid"),
    ],
)
def test_a_bad_id_token_is_refused(token: str, message: str) -> None:
    with pytest.raises(SSOError, match=message):
        provider().validate(token, nonce=NONCE, now=NOW)


def test_an_unsigned_id_token_is_refused() -> None:
    header = jwt.utils.base64url_encode(b'{"alg":"none","kid":"k1"}').decode()
    signed = id_token()
    unsigned = f"{header}.{signed.split('.')[1]}."
    with pytest.raises(SSOError, match="algorithm not accepted"):
        provider().validate(unsigned, nonce=NONCE, now=NOW)


def test_several_audiences_need_this_client_as_the_authorized_party() -> None:
    token = id_token(aud=[CLIENT, "another-client"], azp=CLIENT)
    assert provider().validate(token, nonce=NONCE, now=NOW)["azp"] == CLIENT


def test_the_flow_cookie_is_signed_and_short_lived() -> None:
    key = flow_key("platform-secret-0123456789-0123456789")
    pending = begin("/audit", now=NOW)
    sealed = seal(pending, key)
    assert unseal(sealed, key, now=NOW + timedelta(minutes=9)) == pending
    assert pending.verifier not in pending.challenge and len(pending.verifier) == 86
    for broken in (None, "", sealed + "x", sealed.replace(".", ".x"), "a.b.c"):
        with pytest.raises(SSOError, match="not started here"):
            unseal(broken, key, now=NOW)
    with pytest.raises(SSOError, match="expired"):
        unseal(sealed, key, now=NOW + timedelta(minutes=11))
    with pytest.raises(SSOError):
        unseal(sealed, flow_key("another-secret-0123456789-0123456789"), now=NOW)
    assert begin("/" + "x" * 5000, now=NOW).next_url == "/"  # the cookie stays small
    assert begin("/audit?q=" + "x" * 900, now=NOW).next_url.startswith("/audit")


def test_roles_come_from_named_claims_through_the_map() -> None:
    claims = {
        "groups": ["staff", "chargeline-admins"],
        "realm_access": {"roles": ["helpdesk"]},
        "cognito:groups": ["line"],
        "https://example.com/roles": "helpdesk",
        "roles": {"not": "a list"},
    }
    role_map = {"chargeline-admins": "admin", "helpdesk": "support", "line": "manufacturing"}
    assert map_roles(claims, ("groups",), role_map) == {"admin"}
    assert map_roles(claims, ("realm_access.roles",), role_map) == {"support"}
    assert map_roles(claims, ("cognito:groups", "roles"), role_map) == {"manufacturing"}
    assert claim_values(claims, "https://example.com/roles") == ["helpdesk"]
    assert claim_values(claims, "realm_access.missing.roles") == []
    assert map_roles(claims, ("groups",), {}) == frozenset()
