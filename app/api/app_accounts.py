"""App accounts: sign-up, e-mail verification, password reset, the caller's profile.

Sign-up and reset requests answer ``202`` with the same body whatever the address (no account
enumeration), and the mail is sent after the answer. Login is the OAuth2 password grant at
``/oauth/token``; unverified users may log in but not pair, invite, register cards, get
certificates or charge (see :mod:`app.identity.accounts`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app import audit
from app.api.app_common import AppUser, MailerDep, link, send_later
from app.deps import NowDep, PlatformDep, SessionDep, client_address
from app.identity import accounts
from app.identity.tables import User
from app.mail import Mail
from app.mail_throttle import may_send
from app.problems import not_found

router = APIRouter(prefix="/api/v1/app", tags=["app: accounts"])

CODE_LINE = "If the link does not open, enter this code in the app:"
ACCEPTED_BODY = {
    "status": "accepted",
    "detail": "if the address can receive it, a mail is on its way",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUpBody(_Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class TokenBody(_Body):
    token: str = Field(min_length=1, max_length=256)


class ResetRequestBody(_Body):
    email: str = Field(min_length=3, max_length=254)


class ResetConfirmBody(_Body):
    token: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=256)


class MePublic(BaseModel):
    id: str
    email: str
    email_verified: bool
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


def _verification_mail(platform: PlatformDep, result: accounts.LinkToken) -> Mail:
    if result.token is None:
        return Mail(
            result.email,
            "Your Chargeline account",
            "Someone tried to sign up with this address, which already has an account.\n"
            "If it was you, log in or reset your password.\n",
        )
    return Mail(
        result.email,
        "Verify your e-mail address",
        "Welcome to Chargeline. Open this link to verify your address (valid 48 hours):\n"
        f"{link(platform, '/app/verify-email', result.token)}\n"
        f"\n{CODE_LINE}\n{result.token}\n",
    )


def _may_mail(platform: PlatformDep, request: Request, recipient: str, now: datetime) -> bool:
    return may_send(platform.engine, recipient=recipient, address=client_address(request), now=now)


@router.post("/signup", status_code=202, summary="Sign up as an owner (sends a verification mail)")
def sign_up(
    body: SignUpBody,
    request: Request,
    background: BackgroundTasks,
    platform: PlatformDep,
    session: SessionDep,
    mailer: MailerDep,
    now: NowDep,
) -> dict[str, Any]:
    actor = audit.Actor(f"signup:{body.email[:100]}")
    result = accounts.sign_up(session, body.email, body.password, actor=actor, now=now)
    session.commit()
    if _may_mail(platform, request, result.email, now):
        background.add_task(send_later, mailer, _verification_mail(platform, result))
    return ACCEPTED_BODY


@router.post("/verify-email", summary="Verify an e-mail address with the mailed token")
def verify_email(body: TokenBody, session: SessionDep, now: NowDep) -> dict[str, Any]:
    user = accounts.verify_email(session, body.token, actor=audit.Actor("verify-link"), now=now)
    return {"email": user.email, "email_verified": True}


@router.post("/verify-email/resend", status_code=202, summary="Send a new verification mail")
def resend(
    user: AppUser,
    request: Request,
    background: BackgroundTasks,
    platform: PlatformDep,
    session: SessionDep,
    mailer: MailerDep,
    now: NowDep,
) -> dict[str, Any]:
    row = session.get(User, user.subject)
    if row is None:
        raise not_found("user")
    result = accounts.resend_verification(session, row, now=now)
    session.commit()
    if result is not None and _may_mail(platform, request, result.email, now):
        background.add_task(send_later, mailer, _verification_mail(platform, result))
    return ACCEPTED_BODY


@router.post("/password-reset", status_code=202, summary="Ask for a password reset mail")
def request_reset(
    body: ResetRequestBody,
    request: Request,
    background: BackgroundTasks,
    platform: PlatformDep,
    session: SessionDep,
    mailer: MailerDep,
    now: NowDep,
) -> dict[str, Any]:
    actor = audit.Actor("reset-request")
    result = accounts.request_reset(session, body.email, actor=actor, now=now)
    session.commit()
    if (
        result is not None
        and result.token is not None
        and _may_mail(platform, request, result.email, now)
    ):
        mail = Mail(
            result.email,
            "Reset your Chargeline password",
            "Open this link to choose a new password (valid 30 minutes):\n"
            f"{link(platform, '/app/reset-password', result.token)}\n"
            f"\n{CODE_LINE}\n{result.token}\n"
            "\nIf you did not ask for this, ignore this mail.\n",
        )
        background.add_task(send_later, mailer, mail)
    return ACCEPTED_BODY


@router.post(
    "/password-reset/confirm", status_code=204, summary="Set a new password with the mailed token"
)
def confirm_reset(body: ResetConfirmBody, session: SessionDep, now: NowDep) -> Response:
    accounts.confirm_reset(
        session, body.token, body.password, actor=audit.Actor("reset-link"), now=now
    )
    return Response(status_code=204)


@router.get("/me", summary="The caller's account", response_model_by_alias=True)
def me(user: AppUser, session: SessionDep) -> MePublic:
    row = session.get(User, user.subject)
    if row is None:
        raise not_found("user")
    return MePublic(
        id=row.id,
        email=row.email,
        email_verified=row.email_verified,
        links={
            "self": {"href": "/api/v1/app/me"},
            "stations": {"href": "/api/v1/app/stations"},
            "cards": {"href": "/api/v1/app/cards"},
            "sessions": {"href": "/api/v1/app/sessions"},
        },
    )
