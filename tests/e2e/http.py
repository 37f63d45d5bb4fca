"""The HTTP client of the end-to-end tests: a generous read timeout, because a loaded machine
hashes a password (Argon2, 64 MiB) in seconds, and a request that waits is not a failure."""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(60.0)
OPEN_TIMEOUT = 60.0  # a WebSocket opening handshake (Basic auth hashes a password too)


def api_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT)
