"""Shared pieces of the owners' app API: the caller, error mapping, mail and links.

Every app endpoint needs a user's bearer token (401 otherwise); OAuth2 clients get 403.
Station-scoped endpoints answer 404 to anyone without a membership on the station, so a
stranger, a removed guest or a former owner learns nothing; members whose role lacks the
permission get 403 without details.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.api.factory import secret_keys
from app.deps import CurrentPrincipal, PlatformDep
from app.identity.jwt_tokens import Principal
from app.mail import Mail, Mailer
from app.platform import Platform
from app.problems import forbidden


# The errors of the owners' services, wherever they live: ownership (enrollment), cards and
# sessions (charging), accounts (identity), and the CA's refusals of a CSR.
def get_app_user(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "user":
        raise forbidden("the app API is for users")
    return principal


AppUser = Annotated[Principal, Depends(get_app_user)]


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
