"""``/api/v1/events``: live station events over a WebSocket.

The bearer token comes in the ``Authorization`` header or, for browsers that cannot set
headers on a WebSocket, the ``token`` query parameter. A missing or invalid token closes the
socket with 1008 (policy violation) before anything is sent. Admins hear every station; other
users hear only the stations they hold a membership on, re-read every few seconds and at once
after a membership change in this process, so a removed guest stops hearing the station.
Messages are JSON: ``{"type", "station_id", "event", "decision"}``.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from app.identity.jwt_tokens import InvalidToken, Principal
from app.owners import access
from app.owners.events import REFRESH_SECONDS, Subscription, encode
from app.owners.sync import runtime
from app.platform import Platform

router = APIRouter(tags=["events"])

POLICY_VIOLATION = 1008


def _principal(platform: Platform, websocket: WebSocket) -> Principal | None:
    header = websocket.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or websocket.query_params.get("token")
    if not token:
        return None
    try:
        return platform.tokens.verify(token)
    except InvalidToken:
        if platform.oidc is None:
            return None
    try:
        return platform.oidc.verify(token)
    except InvalidToken:
        return None


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
    principal = _principal(platform, websocket)
    if principal is None:
        await websocket.close(code=POLICY_VIOLATION, reason="a valid bearer token is required")
        return
    await websocket.accept()
    hub = runtime(platform).hub
    user_id = None if "admin" in principal.roles else principal.subject
    subscription = hub.subscribe(user_id)
    forward = asyncio.create_task(_forward(platform, websocket, subscription))
    try:
        while True:
            await websocket.receive_text()  # the client only listens; this notices the close
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscription)
        forward.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forward
