"""``create_app``: the FastAPI application, built from a wired platform."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app import dashboard, problems
from app.api import (
    app_accounts,
    app_cards,
    app_charging,
    app_members,
    app_pages,
    app_stations,
    audit_log,
    commands,
    device_import,
    devices,
    enroll,
    events_ws,
    families,
    firmware_channels,
    firmware_downloads,
    firmware_images,
    health,
    id_tokens,
    index,
    labels,
    oauth,
    pki,
    rollouts,
    station_logs,
    stations,
    transactions,
    users,
)
from app.dashboard.pages import firmware_upload
from app.middleware import RequestGuard
from app.platform import Platform, build_platform
from app.request_log import RequestLog
from app.settings import Settings


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the API; nothing is created at import time."""
    platform = platform or build_platform(settings or Settings())
    app = FastAPIOffline(  # /docs and /redoc with their assets from the package: no CDN
        title="Chargeline",
        version="0.1.0",
        description="Factory-to-field platform for EV charging stations.",
    )
    app.state.platform = platform
    problems.install(app)  # every domain error's problem+json: app/problems.py
    app.add_middleware(
        RequestGuard,
        max_body_bytes=platform.settings.max_body_bytes,
        own_limit=firmware_images.OWN_BODY_LIMIT | firmware_upload.OWN_BODY_LIMIT,
    )
    app.add_middleware(RequestLog)  # outermost: logs every answer, the guard's too
    for module in (
        health,
        index,
        oauth,
        users,
        audit_log,
        commands,
        stations,
        transactions,
        id_tokens,
        families,
        firmware_channels,
        firmware_images,
        rollouts,
        device_import,
        devices,
        labels,
        enroll,
        pki,
        firmware_downloads,
        station_logs,
        app_accounts,
        app_stations,
        app_members,
        app_cards,
        app_charging,
        app_pages,
        events_ws,
    ):
        app.include_router(module.router)
    dashboard.install(app)  # the admin pages at /: app/dashboard/
    return app
