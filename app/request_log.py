"""ASGI middleware: one log line per HTTP request, with a request id the answer echoes.

Logged: method, path (never the query string, which may carry a mailed token), status,
duration and the request id. Headers and bodies (tokens, passwords) are never logged. A caller's
``X-Request-ID`` is kept when it is short and plain, so a proxy's id follows the request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import log_event

log = logging.getLogger("app.requests")

REQUEST_ID = b"x-request-id"
_PLAIN_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID, b"")
        request_id = given if _PLAIN_ID.fullmatch(given) else uuid.uuid4().hex.encode()
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it starts a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID, request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_event(
                log,
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                request_id=request_id.decode(),
            )
