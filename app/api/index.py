"""``/api/v1``: the API's resources as links, where a client starts.

It answers without a token: it only names URLs that the OpenAPI document names anyway. ``/``
is the admin dashboard's (``app/dashboard``); its login page links these too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["index"])

API = "/api/v1"

RESOURCES: dict[str, tuple[str, str]] = {
    "me": (f"{API}/me", "the caller as the token names it"),
    "users": (f"{API}/users", "accounts (admin)"),
    "stations": (f"{API}/stations", "charging stations (admin)"),
    "transactions": (f"{API}/transactions", "charging transactions (admin)"),
    "id_tokens": (f"{API}/id-tokens", "RFID cards and other id tokens (admin)"),
    "families": (f"{API}/families", "hardware families (admin)"),
    "devices": (f"{API}/devices", "devices of the factory line"),
    "mac_ranges": (f"{API}/mac-ranges", "the MAC address pool (admin)"),
    "firmware_images": (f"{API}/firmware/images", "signed firmware images (admin)"),
    "rollouts": (f"{API}/rollouts", "firmware rollouts and their progress (admin)"),
    "cas": (f"{API}/cas", "the platform's certificate authorities (admin)"),
    "audit": (f"{API}/audit", "the audit log (admin)"),
    "app": (f"{API}/app/stations", "the owners' app: stations the caller may use"),
    "app_sessions": (f"{API}/app/sessions", "the owners' app: charging sessions"),
    "events": (f"{API}/events", "live station events (WebSocket)"),
}

PAGES: dict[str, tuple[str, str]] = {
    "docs": ("/docs", "interactive API documentation (Swagger UI)"),
    "redoc": ("/redoc", "API reference (ReDoc)"),
    "openapi": ("/openapi.json", "the OpenAPI document"),
    "token": ("/oauth/token", "OAuth2 token endpoint (POST)"),
    "health": ("/healthz", "liveness probe"),
    "ready": ("/readyz", "readiness probe (the database answers)"),
}


def _links(entries: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {name: {"href": href, "title": title} for name, (href, title) in entries.items()}


@router.get(API, summary="The API's resources, as links")
def api_index() -> dict[str, Any]:
    return {
        "name": "Chargeline API",
        "version": "v1",
        "_links": {"self": {"href": API}, **_links(RESOURCES), **_links(PAGES)},
    }
