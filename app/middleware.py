"""ASGI middleware: body size limit and content-type checks, answered as problem+json."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON, TYPE_BASE

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


async def _send_problem(send: Send, status: int, slug: str, title: str, detail: str) -> None:
    body = json.dumps(
        {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Refuses bodies over ``max_body_bytes`` (413) and non-JSON bodies on ``/api/`` (415).

    The size is checked on the declared Content-Length and again while the body streams, so a
    chunked upload cannot slip past it. ``own_limit`` names the ``(method, path)`` routes that
    enforce a limit of their own while they stream (firmware uploads): only the content type
    is checked for them here.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        own_limit: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.own_limit = own_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limited = (scope["method"], scope["path"]) not in self.own_limit
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        too_large = declared is not None and (
            not declared.isdigit() or (limited and int(declared) > self.max_body_bytes)
        )
        if too_large:
            await self._too_large(send)
            return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        path: str = scope["path"]
        has_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        if (
            path.startswith("/api/")
            and has_body
            and content_type != b"application/json"
            and not content_type.startswith(b"multipart/")
            and content_type
            not in (
                b"text/csv",
                b"application/octet-stream",
                b"application/pkcs10",
                b"application/x-pem-file",
            )
        ):
            await _send_problem(
                send,
                415,
                "unsupported-media-type",
                "Unsupported Media Type",
                "send the body as application/json",
            )
            return

        received = 0
        rejected = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limited and received > self.max_body_bytes and not rejected:
                    rejected = True
                    if not started:
                        await self._too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, send: Send) -> None:
        await _send_problem(
            send,
            413,
            "payload-too-large",
            "Content Too Large",
            f"request bodies are limited to {self.max_body_bytes} bytes",
        )
