"""Shared pieces of the owners' app API: the caller, error mapping, mail and links.

Every app endpoint needs a user's bearer token (401 otherwise); OAuth2 clients get 403.
Station-scoped endpoints answer 404 to anyone without a membership on the station, so a
stranger, a removed guest or a former owner learns nothing; members whose role lacks the
permission get 403 without details.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends

from app.api.factory import secret_keys
from app.deps import CurrentPrincipal, PlatformDep
from app.identity import accounts
from app.identity.jwt_tokens import Principal
from app.identity.service import AccountError
from app.mail import Mail, Mailer
from app.platform import Platform
from app.problems import Problem, forbidden
from charging import errors as charging
from enrollment.ownership import errors as ownership
from pki import CsrRejected, IssuanceRefused

# The errors of the owners' services, wherever they live: ownership (enrollment), cards and
# sessions (charging), accounts (identity), and the CA's refusals of a CSR.
OWNER_ERRORS = (
    ownership.OwnershipError,
    charging.NotVisible,
    charging.NotAllowed,
    charging.Conflict,
    accounts.AccountLinkError,
    AccountError,
    CsrRejected,
    IssuanceRefused,
)


def get_app_user(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "user":
        raise forbidden("the app API is for users")
    return principal


AppUser = Annotated[Principal, Depends(get_app_user)]


def problem_for(exc: Exception) -> Problem:
    """The problem+json for an owners' service error (or a CA refusal)."""
    if isinstance(exc, ownership.NotVisible | charging.NotVisible | accounts.UnknownAccount):
        return Problem(404, "not-found", str(exc))
    if isinstance(exc, accounts.NotVerified):
        return Problem(403, "email-not-verified", str(exc))
    if isinstance(exc, ownership.WrongCodes):
        return Problem(403, "pairing-refused", str(exc))
    if isinstance(exc, ownership.NotAllowed | charging.NotAllowed):
        return Problem(403, "forbidden", str(exc))
    if isinstance(exc, ownership.Conflict | charging.Conflict):
        return Problem(409, exc.slug, str(exc), **exc.extensions)
    if isinstance(exc, ownership.TokenRefused | accounts.TokenRefused):
        status = 404 if exc.reason == "unknown" else 410
        return Problem(status, f"{exc.what.replace(' ', '-')}-{exc.reason}", str(exc))
    if isinstance(exc, ownership.LockedOut):
        return Problem(
            429, "too-many-attempts", str(exc), headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, ownership.BadInput | accounts.BadInput):
        return Problem(422, exc.slug, str(exc), **exc.extensions)
    if isinstance(exc, AccountError):
        return Problem(422, "account-refused", str(exc))
    if isinstance(exc, CsrRejected | IssuanceRefused):
        return Problem(422, "csr-rejected", str(exc))
    raise exc


@contextmanager
def owner_errors() -> Iterator[None]:
    """Turn the owners' service errors raised inside into problems."""
    try:
        yield
    except OWNER_ERRORS as exc:
        raise problem_for(exc) from exc


def pepper(platform: Platform) -> bytes:
    return secret_keys(platform.settings).pepper


def get_mailer(platform: PlatformDep) -> Mailer:
    return Mailer(platform.settings)


MailerDep = Annotated[Mailer, Depends(get_mailer)]


def link(platform: Platform, path: str, token: str) -> str:
    """A link for a mail: the app (a deep link) or a browser (:mod:`app.api.app_pages`)
    opens it."""
    return f"{platform.settings.app_link_url}{path}?token={token}"


def send_later(mailer: Mailer, mail: Mail) -> None:
    """For ``BackgroundTasks``: the answer goes out before (and whatever) the SMTP server says."""
    mailer.send(mail)
