"""The pages the links in our mails open, for a person with a browser and no app.

- ``GET /app/verify-email?token=`` verifies the address at once and says so;
- ``GET /app/reset-password?token=`` shows a form for the new password, ``POST`` sets it;
- ``GET /app/invitations/accept?token=`` shows a form to log in and accept (or explains how
  to accept in the app), ``POST`` accepts as the account whose password was given.

Plain server-rendered HTML, no script; everything shown is escaped (:func:`html.escape`).
The tokens are the same single-use tokens the app API takes, so a link spent in the browser
is spent for the app too. A mobile app may claim these paths as deep links
(``CHARGELINE_APP_LINK_BASE``).
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import audit
from app.deps import NowDep, PlatformDep, SessionDep, client_address
from app.identity import accounts
from app.identity.ratelimit import TooManyAttempts
from app.identity.service import AuthError, password_login
from enrollment.ownership import members
from enrollment.ownership.errors import OwnershipError

router = APIRouter(tags=["app: mail links"], include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Chargeline</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 2em auto; padding: 0 1em">
<h1>{title}</h1>
{body}
</body></html>
"""


def page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    """A whole page; ``body`` is HTML the caller built from escaped parts."""
    return HTMLResponse(
        _PAGE.format(title=escape(title), body=body),
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _refused(title: str, error: Exception) -> HTMLResponse:
    return page(title, f"<p>{escape(str(error))}.</p>", status=400)


def _field(label: str, name: str, kind: str, value: str = "") -> str:
    return (
        f'<p><label>{escape(label)}<br><input name="{name}" type="{kind}" '
        f'value="{escape(value)}" required></label></p>'
    )


@router.get("/app/verify-email", response_class=HTMLResponse)
def verify_email(session: SessionDep, now: NowDep, token: str = "") -> HTMLResponse:
    title = "Verify your e-mail address"
    try:
        user = accounts.verify_email(session, token, actor=audit.Actor("verify-page"), now=now)
    except accounts.AccountLinkError as error:
        return _refused(title, error)
    session.commit()
    return page(
        "Address verified",
        f"<p>{escape(user.email)} is verified. You can pair stations in the app now.</p>",
    )


def _reset_form(token: str, note: str = "") -> str:
    return (
        f"{note}<form method='post' action='/app/reset-password'>"
        f"<input type='hidden' name='token' value='{escape(token, quote=True)}'>"
        + _field("New password", "password", "password")
        + "<p><button type='submit'>Set the new password</button></p></form>"
    )


@router.get("/app/reset-password", response_class=HTMLResponse)
def reset_form(token: str = "") -> HTMLResponse:
    return page("Choose a new password", _reset_form(token))


@router.post("/app/reset-password", response_class=HTMLResponse)
async def reset(request: Request, session: SessionDep, now: NowDep) -> HTMLResponse:
    form = await request.form()
    token, password = str(form.get("token", "")), str(form.get("password", ""))
    try:
        accounts.confirm_reset(session, token, password, actor=audit.Actor("reset-page"), now=now)
    except accounts.AccountLinkError as error:
        note = f"<p><strong>{escape(str(error))}.</strong></p>"
        return page("Choose a new password", _reset_form(token, note), status=400)
    session.commit()
    return page("Password changed", "<p>Your new password is set. Log in with it in the app.</p>")


def _accept_form(token: str, note: str = "") -> str:
    return (
        f"{note}<p>Log in with the account the invitation was sent to, and accept it here. "
        "Or open the Chargeline app, log in, and accept the invitation with this code:</p>"
        f"<p><code>{escape(token)}</code></p>"
        "<form method='post' action='/app/invitations/accept'>"
        f"<input type='hidden' name='token' value='{escape(token, quote=True)}'>"
        + _field("E-mail address", "email", "email")
        + _field("Password", "password", "password")
        + "<p><button type='submit'>Log in and accept</button></p></form>"
    )


@router.get("/app/invitations/accept", response_class=HTMLResponse)
def accept_form(token: str = "") -> HTMLResponse:
    return page("Accept the invitation", _accept_form(token))


@router.post("/app/invitations/accept", response_class=HTMLResponse)
async def accept(
    request: Request, platform: PlatformDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    form = await request.form()
    token = str(form.get("token", ""))
    title = "Accept the invitation"
    try:
        user = password_login(
            session,
            str(form.get("email", "")),
            str(form.get("password", "")),
            limiter=platform.login_limiter,
            source=client_address(request),
            now=now,
        )
        actor = audit.Actor(f"user:{user.id}", client_address(request))
        joined = members.accept(
            session, token, user.id, user.email, audit=audit.record, actor=actor, now=now
        )
        accounts.mark_verified(session, user)
    except (AuthError, TooManyAttempts, OwnershipError) as error:
        note = f"<p><strong>{escape(str(error))}.</strong></p>"
        return page(title, _accept_form(token, note), status=400)
    session.commit()
    platform.events.invalidate(user.id)
    return page(
        "Invitation accepted",
        f"<p>You are now a {escape(joined.role.replace('_', '-'))} of station "
        f"{escape(joined.station_serial)}. Open the Chargeline app to charge there.</p>",
    )
