"""A simulated station's log upload (1.6 GetDiagnostics 6.33, GetLog Whitepaper 4.4, 2.0.1 N01).

The station uploads a small text log (its firmware history) to the requested location and
reports Uploading, then Uploaded or, after its retries, UploadFailed (1.6
DiagnosticsStatusNotification) / UploadFailure (LogStatusNotification, with requestId).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from simulator.maintenance import LogRequest
from simulator.state import LogState
from simulator.transfers import TransferError

Notify = Callable[[str, dict[str, Any]], Awaitable[None]]
Upload = Callable[[str, str, bytes], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_RETRY_INTERVAL = 5.0


def log_status_message(state: LogState, *, diagnostics: bool) -> tuple[str, dict[str, Any]]:
    """The notification of the current upload status (Idle when none runs), for a trigger."""
    status = state.status if state.running else "Idle"
    if diagnostics:
        return "DiagnosticsStatusNotification", {"status": status}
    payload: dict[str, Any] = {"status": status}
    if state.running and state.request_id is not None:
        payload["requestId"] = state.request_id
    return "LogStatusNotification", payload


async def upload_log(
    request: LogRequest,
    state: LogState,
    content: bytes,
    *,
    notify: Notify,
    upload: Upload,
    sleep: Sleep,
) -> None:
    """Upload ``content`` as ``request.filename`` and report each step."""
    diagnostics = request.request_id is None

    async def report(status: str) -> None:
        state.status = status
        await notify(*log_status_message(state, diagnostics=diagnostics))

    try:
        await report("Uploading")
        attempts = 1 + (request.retries or 0)
        for attempt in range(attempts):
            try:
                await upload(request.location, request.filename, content)
            except TransferError:
                if attempt + 1 == attempts:
                    await report("UploadFailed" if diagnostics else "UploadFailure")
                    return
                interval = request.retry_interval
                await sleep(DEFAULT_RETRY_INTERVAL if interval is None else interval)
                continue
            await report("Uploaded")
            return
    finally:
        if state.request_id == request.request_id and state.diagnostics == diagnostics:
            state.running = False
