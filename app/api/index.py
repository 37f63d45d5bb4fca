"""Where a new user lands: ``/`` (a small HTML page) and ``/api/v1`` (the resources as links).

Both answer without a token: they only name URLs that the OpenAPI document names anyway. The
admin dashboard will take ``/`` over later; this router stays separate so it can step aside.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

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


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    title = escape(request.app.title)
    items = "\n".join(
        f'    <li><a href="{escape(href)}">{escape(href)}</a> {escape(text)}</li>'
        for href, text in (
            PAGES["docs"],
            PAGES["redoc"],
            (API, "the REST API's resources (JSON)"),
            PAGES["health"],
            PAGES["ready"],
        )
    )
    return HTMLResponse(
        "<!doctype html>\n"
        f'<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body>\n  <h1>{title}</h1>\n  <ul>\n{items}\n  </ul>\n</body>\n</html>\n"
    )
