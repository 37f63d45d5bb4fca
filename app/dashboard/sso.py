"""``/login/sso``: single sign-on through an external OpenID Connect provider.

Configured by ``oidc_issuer`` and ``oidc_client_id`` (``oidc_client_secret`` for a confidential
client). ``GET /login/sso`` starts the authorization code flow with PKCE and sends the browser to
the provider; ``GET /login/sso/callback`` checks the state, exchanges the code, validates the ID
token (see :mod:`app.dashboard.oidc_client`), maps the claims named by ``oidc_role_claims``
through ``oidc_role_map`` to dashboard roles and opens a session of kind ``oidc`` whose subject is
``issuer#sub``. Every outcome is audited as ``dashboard.login`` (``method=oidc``).
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import audit
from app.dashboard.auth import COOKIE, DASHBOARD_ROLES
from app.dashboard.login import (
    LOGIN_COOKIE,
    login_form,
    safe_next,
    secure_cookies,
    set_session_cookie,
)
from app.dashboard.oidc_client import (
    FLOW_LIFETIME,
    PendingLogin,
    Provider,
    SSOError,
    begin,
    flow_key,
    map_roles,
    seal,
    unseal,
)
from app.dashboard.render import render
from app.dashboard.session_store import close_session, open_session
from app.db import session_scope
from app.deps import NowDep, PlatformDep, client_address
from app.platform import Platform

router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "chargeline_sso"
FLOW_PATH = "/login/sso"
ERROR_CODE = re.compile(r"[a-z_]{1,40}")
MAX_SUBJECT = 195
"""The longest ``issuer#sub`` taken: as ``oidc:<subject>`` it fits the audit log's actor (200).
A longer one is refused, never cut (two users must not share a subject)."""


def provider_of(request: Request) -> Provider | None:
    """The configured provider, kept on the app so discovery and keys are fetched once."""
    settings = request.app.state.platform.settings
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    secret = settings.oidc_client_secret
    wanted = (settings.oidc_issuer, settings.oidc_client_id, secret and secret.get_secret_value())
    found: Provider | None = getattr(request.app.state, "sso_provider", None)
    if found is None or (found.issuer, found.client_id, found.client_secret) != wanted:
        found = Provider(*wanted)
        request.app.state.sso_provider = found
    return found


def callback_url(request: Request) -> str:
    public: str | None = request.app.state.platform.settings.public_url
    if public:
        return public.rstrip("/") + "/login/sso/callback"
    return str(request.url_for("sso_callback"))


def _not_configured(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        None,
        status=404,
        heading="Single sign-on is not configured",
        detail="Log in with your platform account instead.",
    )


@router.get("/login/sso")
def start(request: Request, platform: PlatformDep, now: NowDep) -> Response:
    provider = provider_of(request)
    if provider is None:
        return _not_configured(request)
    pending = begin(safe_next(request.query_params.get("next")), now=now)
    try:
        target = provider.authorization_url(pending, callback_url(request))
    except SSOError as exc:
        return login_form(request, next_url=pending.next_url, error=str(exc), status=502)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        seal(pending, flow_key(platform.settings.secret_key.get_secret_value())),
        max_age=int(FLOW_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",  # the provider's redirect back is a cross-site top-level GET
        secure=secure_cookies(request),
        path=FLOW_PATH,
    )
    return response


@router.get("/login/sso/callback", name="sso_callback")
def callback(request: Request, platform: PlatformDep, now: NowDep) -> Response:
    provider = provider_of(request)
    if provider is None:
        return _not_configured(request)
    query = request.query_params
    key = flow_key(platform.settings.secret_key.get_secret_value())
    next_url = "/"
    try:
        if query.get("error"):
            raise SSOError(_refusal(query["error"]))
        pending = unseal(request.cookies.get(FLOW_COOKIE), key, now=now)
        next_url = pending.next_url
        _check_state(query.get("state"), pending)
        code = query.get("code", "")
        if not code or len(code) > 2000:
            raise SSOError("The sign-in provider sent no code: please try again.")
        token = provider.exchange(code, pending, callback_url(request))
        claims = provider.validate(token, nonce=pending.nonce, now=now)
    except SSOError as exc:
        _audit_failure(platform, request, str(exc))
        return _forget_flow(login_form(request, next_url=next_url, error=str(exc), status=401))
    return _sign_in(request, platform, claims, pending, now)


def _refusal(error: str) -> str:
    """The provider's error code (RFC 6749 4.1.2.1); its free text is not shown, so a crafted
    link cannot put words of its choosing on the login page."""
    code = error if ERROR_CODE.fullmatch(error) else "unknown error"
    return f"The sign-in provider refused the sign-in ({code})."


def _check_state(sent: str | None, pending: PendingLogin) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), pending.state.encode()):
        raise SSOError("This sign-in's state does not match: please try again.")


def _sign_in(
    request: Request,
    platform: Platform,
    claims: dict[str, Any],
    pending: PendingLogin,
    now: datetime,
) -> Response:
    settings = platform.settings
    subject = f"{claims['iss']}#{claims['sub']}"
    roles = map_roles(claims, settings.oidc_role_claims, settings.oidc_role_map) & DASHBOARD_ROLES
    source = client_address(request)
    if len(subject) > MAX_SUBJECT:
        _audit_failure(platform, request, "subject too long")
        return _forget_flow(
            login_form(
                request,
                next_url=pending.next_url,
                error="The provider's user id is too long for this platform.",
                status=401,
            )
        )
    if not roles:
        _audit_failure(platform, request, "no dashboard role", subject=subject)
        return _forget_flow(
            render(
                request,
                "error.html",
                None,
                status=403,
                heading="No dashboard role",
                detail=(
                    f"Your account at {settings.dashboard_sso_name} holds no group or role "
                    "that grants a dashboard role (admin, support or manufacturing): ask an "
                    "admin to add you to one."
                ),
            )
        )
    name = next(
        (
            str(claims[claim])
            for claim in ("email", "preferred_username")
            if isinstance(claims.get(claim), str) and claims[claim]
        ),
        str(claims["sub"]),
    )
    with session_scope(platform.engine) as session:
        close_session(session, request.cookies.get(COOKIE))
        token = open_session(
            session, kind="oidc", subject=subject, name=name, roles=roles, source=source, now=now
        )
        audit.record(
            session,
            audit.Actor(f"oidc:{subject}", source),
            "dashboard.login",
            object_type="oidc",
            object_id=subject,
            method="oidc",
            roles=sorted(roles),
        )
    response = _forget_flow(RedirectResponse(pending.next_url, status_code=303))
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _forget_flow(response: Response) -> Response:
    """A flow cookie serves one callback."""
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


def _audit_failure(platform: Platform, request: Request, reason: str, subject: str = "") -> None:
    with session_scope(platform.engine) as session:
        audit.record(
            session,
            audit.Actor(f"oidc:{subject}" if subject else "oidc", client_address(request)),
            "dashboard.login",
            object_type="oidc",
            object_id=subject,
            outcome="failure",
            method="oidc",
            reason=reason[:200],
        )
