"""``/login`` and ``/logout``: platform accounts with the API's throttle and lockout.

The login form carries its own CSRF token, bound to a short-lived cookie (a session does not
exist yet), so another site cannot log a browser into an account of its choosing. A successful
login always starts a new session (no fixation) and both outcomes are audited.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import audit
from app.dashboard.auth import COOKIE, DASHBOARD_ROLES, AnyAction, session_viewer
from app.dashboard.render import render
from app.dashboard.session_store import close_session, open_session
from app.db import session_scope
from app.deps import NowDep, PlatformDep, client_address
from app.identity import service
from app.identity.ratelimit import TooManyAttempts
from app.identity.secrets import new_token
from app.settings import Settings

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "chargeline_login"
LOGIN_COOKIE_SECONDS = 3600
MAX_FIELD = 1000


def safe_next(value: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://...`` go to the overview."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:2000]


def sso_name(settings: Settings) -> str:
    """The provider's name for "Sign in with ...", or "" when single sign-on is not set up."""
    return settings.dashboard_sso_name if settings.oidc_issuer and settings.oidc_client_id else ""


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def login_form(
    request: Request,
    *,
    next_url: str,
    error: str = "",
    email: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    token = new_token()
    platform = request.app.state.platform
    response = render(
        request,
        "login.html",
        None,
        status=status,
        title="Log in",
        login_csrf=token,
        next_url=safe_next(next_url),
        error=error,
        email=email,
        errors=errors or {},
        sso=sso_name(platform.settings),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_COOKIE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


def _audit_login(session: Session, user_id: str, source: str, **detail: str) -> None:
    audit.record(
        session,
        audit.Actor(f"user:{user_id}", source),
        "dashboard.login",
        object_type="user",
        object_id=user_id,
        **detail,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, platform: PlatformDep, now: NowDep) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if session_viewer(platform, request.cookies.get(COOKIE), now) is not None:
        return RedirectResponse(next_url, status_code=303)
    return login_form(request, next_url=next_url)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    platform: PlatformDep,
    now: NowDep,
    email: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    login_csrf: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(login_csrf.encode(), expected.encode()):
        return login_form(
            request,
            next_url=next,
            email=email,
            error="This login form has expired: please try again.",
            status=403,
        )
    errors = {
        name: "Enter your e-mail address." if name == "email" else "Enter your password."
        for name, value in (("email", email.strip()), ("password", password))
        if not value
    }
    if errors:
        return login_form(request, next_url=next, email=email, errors=errors, status=422)
    source = client_address(request)
    try:
        with session_scope(platform.engine) as session:
            user = service.password_login(
                session,
                email,
                password,
                limiter=platform.login_limiter,
                source=source,
                now=now,
            )
            roles = frozenset(user.role_list) & DASHBOARD_ROLES
            if not roles:
                _audit_login(
                    session, user.id, source, outcome="failure", reason="no dashboard role"
                )
                refused = True
            else:
                refused = False
                close_session(session, request.cookies.get(COOKIE))
                token = open_session(
                    session,
                    kind="user",
                    subject=user.id,
                    name=user.email,
                    roles=roles,
                    source=source,
                    now=now,
                )
                _audit_login(session, user.id, source, method="password")
    except TooManyAttempts as exc:
        return login_form(
            request,
            next_url=next,
            email=email,
            error=f"Too many failed attempts: try again in {exc.retry_after} s.",
            status=429,
        )
    except service.AuthError as exc:
        return login_form(
            request,
            next_url=next,
            email=email,
            error=exc.description.capitalize() + ".",
            status=401,
        )
    if refused:
        return login_form(
            request,
            next_url=next,
            email=email,
            error="This account has no dashboard role (admin, support or manufacturing).",
            status=403,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, platform: PlatformDep, viewer: AnyAction) -> Response:
    with session_scope(platform.engine) as session:
        close_session(session, request.cookies.get(COOKIE))
        audit.record(
            session,
            audit.Actor(viewer.actor_name, client_address(request)),
            "dashboard.logout",
            object_type="user",
            object_id=viewer.subject,
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
