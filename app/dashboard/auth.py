"""Who may see and do what on the dashboard: the session cookie, roles per page, CSRF.

Roles: ``admin`` sees and does all; ``support`` sees all and changes nothing; ``manufacturing``
sees and works the factory pages only. A page is guarded by :func:`page_role`; every form post
by :func:`action_role`, which also checks the session's CSRF token (form field ``csrf_token`` or
header ``X-CSRF-Token``, which htmx sends) and the ``Origin`` header when the browser sent one.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.dashboard.session_store import Viewer, close_all_of, find_session
from app.db import session_scope
from app.deps import NowDep, PlatformDep
from app.identity.tables import User

COOKIE = "chargeline_session"
DASHBOARD_ROLES = frozenset({"admin", "support", "manufacturing"})
READ = ("admin", "support")
"""Who sees the fleet pages (everything but the factory)."""
FACTORY_READ = ("admin", "support", "manufacturing")
FACTORY_WRITE = ("admin", "manufacturing")


class LoginRequired(Exception):
    """No live session: the browser is sent to the login page, then back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__("log in first")
        self.next_url = next_url


class PageForbidden(Exception):
    """A logged-in viewer without the role a page or action needs (403)."""


def _current(session: Session, viewer: Viewer) -> Viewer | None:
    """A platform account's session as the account stands now: disabled or roleless ends it."""
    if viewer.kind != "user":
        return viewer
    user = session.get(User, viewer.subject)
    roles = frozenset(user.role_list) & DASHBOARD_ROLES if user is not None else frozenset()
    if user is None or user.disabled or not roles:
        close_all_of(session, viewer.subject)
        return None
    if roles == viewer.roles:
        return viewer
    return Viewer(viewer.kind, viewer.subject, viewer.name, roles, viewer.csrf_token)


def session_viewer(platform: PlatformDep, token: str | None, now: NowDep) -> Viewer | None:
    """The viewer behind a session cookie token, or None (also for the events socket)."""
    with session_scope(platform.engine) as session:
        viewer = find_session(session, token, now=now)
        return None if viewer is None else _current(session, viewer)


def get_viewer(request: Request, platform: PlatformDep, now: NowDep) -> Viewer:
    viewer = session_viewer(platform, request.cookies.get(COOKIE), now)
    if viewer is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query)
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def page_role(*roles: str) -> Callable[[Viewer], Viewer]:
    """A dependency letting through viewers holding any of ``roles`` (403 page otherwise)."""

    def check(viewer: ViewerDep) -> Viewer:
        if not viewer.has(*roles):
            raise PageForbidden(f"this page needs the role {' or '.join(roles)}")
        return viewer

    return check


def same_origin(request: Request, origin: str | None, extra: tuple[str, ...] = ()) -> bool:
    """Whether an ``Origin`` header names this site (or one of ``extra``); absent passes."""
    if origin is None:
        return True
    host = request.headers.get("host", "")
    scheme = "https" if request.url.scheme in ("https", "wss") else "http"
    return origin in {f"{scheme}://{host}", *extra}


async def check_csrf(request: Request, viewer: Viewer) -> None:
    if not same_origin(request, request.headers.get("origin")):
        raise PageForbidden("this form was posted from another site")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
        raise PageForbidden("the form's CSRF token is missing or wrong: reload the page")


def action_role(*roles: str) -> Callable[[Request, Viewer], Awaitable[Viewer]]:
    """A dependency for form posts: the role, then the CSRF token and the origin."""

    async def check(request: Request, viewer: ViewerDep) -> Viewer:
        if not viewer.has(*roles):
            raise PageForbidden(f"this action needs the role {' or '.join(roles)}")
        await check_csrf(request, viewer)
        return viewer

    return check


ReadView = Annotated[Viewer, Depends(page_role(*READ))]
"""Admin or support: every page but the factory's."""
AdminAction = Annotated[Viewer, Depends(action_role("admin"))]
FactoryView = Annotated[Viewer, Depends(page_role(*FACTORY_READ))]
FactoryAction = Annotated[Viewer, Depends(action_role(*FACTORY_WRITE))]
AnyAction = Annotated[Viewer, Depends(action_role(*DASHBOARD_ROLES))]
"""Any logged-in viewer's own acts (logout)."""
