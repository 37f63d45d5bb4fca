"""``/api/v1/events``: live station events over a WebSocket.

The bearer token comes in the ``Authorization`` header or, for browsers that cannot set headers
on a WebSocket, the ``token`` query parameter; the dashboard's pages use their session cookie
instead. A browser's ``Origin`` must be this site's own (or one of
``settings.allowed_origins``): a cookie alone never opens the socket for another site. A missing
or invalid token, or a disabled account, closes the socket with 1008 (policy violation) before
anything is sent; an open socket is closed with 1008 when its token expires or its account is
disabled. Admins and support hear every station; other users hear only the stations they hold a
membership on, re-read every few seconds and at once after a membership change in this process,
so a removed guest stops hearing the station. Messages are JSON: ``{"type", "station_id",
"event", "decision"}``; admins and support also hear ``StationConnected`` and
``StationDisconnected`` (``event`` holds only the ``station_id``, ``decision`` is null).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from app.dashboard.auth import COOKIE, session_viewer
from app.deps import account_refusal
from app.identity.jwt_tokens import InvalidToken, Principal
from app.live import REFRESH_SECONDS, Subscription, encode
from app.platform import Platform
from common.clock import utcnow
from enrollment.ownership import access

router = APIRouter(tags=["events"])

POLICY_VIOLATION = 1008
ACCOUNT_CHECK_SECONDS = 5.0
"""How often an open socket re-reads its account (a disabled account is cut within this)."""


def _principal(platform: Platform, websocket: WebSocket) -> tuple[Principal, bool] | None:
    """The caller and whether the token is one of ours (its account is then checked)."""
    header = websocket.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or websocket.query_params.get("token")
    if not token:
        return _dashboard_principal(platform, websocket)
    try:
        return platform.tokens.verify(token), True
    except InvalidToken:
        if platform.oidc is None:
            return None
    try:
        return platform.oidc.verify(token), False
    except InvalidToken:
        return None


def _dashboard_principal(platform: Platform, websocket: WebSocket) -> tuple[Principal, bool] | None:
    viewer = session_viewer(platform, websocket.cookies.get(COOKIE), utcnow())
    if viewer is None:
        return None
    # the cookie was checked against the account just now; the watch re-checks it
    return Principal(viewer.subject, viewer.kind, viewer.roles), viewer.kind == "user"


def _origin_allowed(platform: Platform, websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser: a bearer token is needed anyway
        return True
    host = websocket.headers.get("host", "")
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    return origin in {f"{scheme}://{host}", *platform.settings.allowed_origins}


def _refusal(platform: Platform, principal: Principal) -> str | None:
    with Session(platform.engine) as session:
        return account_refusal(session, principal)


async def _watch(platform: Platform, websocket: WebSocket, principal: Principal, own: bool) -> None:
    """Close the socket (1008) when the token expires or the account is disabled."""
    expires = principal.claims.get("exp")
    while True:
        left = float(expires) - time.time() if isinstance(expires, int | float) else math.inf
        if left <= 0:
            await websocket.close(code=POLICY_VIOLATION, reason="token expired")
            return
        await asyncio.sleep(min(left, ACCOUNT_CHECK_SECONDS))
        refusal = await asyncio.to_thread(_refusal, platform, principal) if own else None
        if refusal is not None:
            await websocket.close(code=POLICY_VIOLATION, reason=refusal)
            return


def _stations(platform: Platform, user_id: str) -> set[str]:
    with Session(platform.engine) as session:
        return access.visible_stations(session, user_id)


async def _forward(platform: Platform, websocket: WebSocket, subscription: Subscription) -> None:
    allowed: set[str] = set()
    loop = asyncio.get_running_loop()
    refreshed = 0.0
    while True:
        item = await subscription.queue.get()
        if subscription.user_id is not None:
            if subscription.stale or loop.time() - refreshed > REFRESH_SECONDS:
                subscription.stale = False
                refreshed = loop.time()
                allowed = await asyncio.to_thread(_stations, platform, subscription.user_id)
            if item["station_id"] not in allowed:
                continue
        await websocket.send_text(encode(item))


@router.websocket("/api/v1/events")
async def events(websocket: WebSocket) -> None:
    platform: Platform = websocket.app.state.platform
    if not _origin_allowed(platform, websocket):
        await websocket.close(code=POLICY_VIOLATION, reason="origin not allowed")
        return
    found = await asyncio.to_thread(_principal, platform, websocket)
    if found is None:
        await websocket.close(code=POLICY_VIOLATION, reason="a valid bearer token is required")
        return
    principal, own = found
    refusal = await asyncio.to_thread(_refusal, platform, principal) if own else None
    if refusal is not None:
        await websocket.close(code=POLICY_VIOLATION, reason=refusal)
        return
    await websocket.accept()
    hub = platform.events
    hears_all = principal.roles & {"admin", "support"}  # support sees what admins see
    user_id = None if hears_all else principal.subject
    subscription = hub.subscribe(user_id)
    forward = asyncio.create_task(_forward(platform, websocket, subscription))
    watch = asyncio.create_task(_watch(platform, websocket, principal, own))
    try:
        while True:
            await websocket.receive_text()  # the client only listens; this notices the close
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscription)
        for task in (forward, watch):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
