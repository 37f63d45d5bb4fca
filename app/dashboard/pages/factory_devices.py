"""``/factory/devices``: find a device, see its facts and lifecycle history, release it,
print its labels (PNG or SVG, through the same label service as the API)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app import audit
from app.api.devices import family_names
from app.api.factory import KeysDep
from app.audit import AuditEntry
from app.dashboard.auth import FactoryAction, FactoryView
from app.dashboard.pages.factory_common import (
    STATE_BADGES,
    STATES,
    LabelView,
    actor_of,
    can_act,
    not_found,
    refused_page,
    stations_of,
)
from app.dashboard.paging import Window, page_of, text_param, window
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import NowDep, SessionDep
from enrollment import label_sheets, service
from enrollment.errors import InvalidMac, InvalidSerial, InvalidTransition
from enrollment.identifiers import SERIAL_MAX_LENGTH, format_mac, parse_mac, parse_serial
from enrollment.labels import render_png, render_svg
from enrollment.lifecycle import DeviceState, allowed_targets
from enrollment.lots import device_query
from enrollment.metadata import stored_metadata
from enrollment.qr import LabelKind
from enrollment.sealing import SealError
from enrollment.service_errors import LabelsUnavailable
from enrollment.tables import DeviceRow

router = APIRouter(include_in_schema=False)

LABELS = {
    "device.png": (LabelKind.DEVICE, "png"),
    "device.svg": (LabelKind.DEVICE, "svg"),
    "packaging.png": (LabelKind.PACKAGING, "png"),
    "packaging.svg": (LabelKind.PACKAGING, "svg"),
}
HISTORY_PAGE = 25
SHOWN_DETAIL = ("certificate_serial", "family", "lot", "mac", "reason", "method")
"""Audit detail shown in a device's history: lifecycle facts, never people or secrets."""
DONE = {"released": "The device was released to market."}
_SERIAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


def _search(text: str) -> tuple[str, int | None]:
    """The serial prefix and MAC address a search box's text can stand for (either may miss)."""
    prefix = text.strip().upper()
    if len(prefix) > SERIAL_MAX_LENGTH or any(c not in _SERIAL_CHARS for c in prefix):
        prefix = ""
    try:
        mac = parse_mac(text)
    except InvalidMac:
        mac = None
    return prefix, mac


@router.get("/factory/devices", response_class=HTMLResponse)
def devices(request: Request, viewer: FactoryView, session: SessionDep) -> Response:
    search = text_param(request, "q", max_length=100)
    state = text_param(request, "state", max_length=20)
    states = (DeviceState(state),) if state in STATES else ()
    prefix, mac = _search(search)
    win = window(request)
    rows: list[DeviceRow] = []
    if not search or prefix or mac is not None:
        query = device_query(states=states, serial_prefix=prefix, mac=mac)
        rows = list(session.exec(query.offset(win.offset).limit(win.limit + 1)).all())
    page = page_of(request, rows, win, total=None)
    return render(
        request,
        "factory/devices.html",
        viewer,
        title="Devices",
        page=page,
        search=search,
        state=state if states else "",
        states=STATES,
        badges=STATE_BADGES,
        format_mac=format_mac,
        families=family_names(session),
        stations=stations_of(session, [row.serial for row in page.items]),
    )


def _device(session: Session, serial: str) -> DeviceRow | None:
    try:
        canonical = parse_serial(serial)
    except InvalidSerial:
        return None
    return session.get(DeviceRow, canonical)


def history(session: Session, serial: str, win: Window) -> list[AuditEntry]:
    """The device's audited lifecycle moves, newest first (``limit + 1`` to see a next page)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "device", AuditEntry.object_id == serial)
        .order_by(col(AuditEntry.id).desc())
        .offset(win.offset)
        .limit(win.limit + 1)
    )
    return list(session.exec(query).all())


def _detail(entry: AuditEntry) -> dict[str, Any]:
    try:
        detail = json.loads(entry.detail)
    except ValueError:
        return {}
    if not isinstance(detail, dict):
        return {}
    return {key: detail[key] for key in ("from_state", "to_state", *SHOWN_DETAIL) if key in detail}


def device_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    device: DeviceRow,
    *,
    error: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    win = window(request, limit=HISTORY_PAGE)
    entries = history(session, device.serial, win)
    metadata, metadata_error = stored_metadata(device.metadata_json)
    state = DeviceState(device.state)
    return render(
        request,
        "factory/device.html",
        viewer,
        status=status,
        title=f"Device {device.serial}",
        device=device,
        family=family_names(session).get(device.family_id, ""),
        metadata=metadata,
        metadata_error=metadata_error,
        state=state.value,
        states=STATES,
        next_states=sorted(target.value for target in allowed_targets(state)),
        badges=STATE_BADGES,
        format_mac=format_mac,
        station=stations_of(session, [device.serial]).get(device.serial),
        history=page_of(request, entries, win, total=None),
        details={entry.id: _detail(entry) for entry in entries},
        printable=device.sealed_codes is not None,
        can_act=can_act(viewer),
        done=DONE.get(request.query_params.get("done", ""), ""),
        error=error,
        errors=errors or {},
    )


@router.get("/factory/devices/{serial}", response_class=HTMLResponse)
def device(serial: str, request: Request, viewer: FactoryView, session: SessionDep) -> Response:
    found = _device(session, serial)
    if found is None:
        return not_found(request, viewer, "This device")
    return device_page(request, viewer, session, found)


@router.post("/factory/devices/{serial}/release", response_class=HTMLResponse)
def release(
    serial: str,
    request: Request,
    viewer: FactoryAction,
    session: SessionDep,
    now: NowDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    found = _device(session, serial)
    if found is None:
        return not_found(request, viewer, "This device")
    if confirm != "yes":
        errors = {"confirm": "Tick the box to confirm the release."}
        return device_page(request, viewer, session, found, errors=errors, status=422)
    try:
        service.release_device(
            session, found.serial, actor=actor_of(viewer, request), now=now, audit=audit.record
        )
    except InvalidTransition as refused:
        session.rollback()
        return device_page(request, viewer, session, found, error=str(refused), status=409)
    return RedirectResponse(f"/factory/devices/{found.serial}?done=released", status_code=303)


@router.get("/factory/devices/{serial}/labels/{name}", response_model=None)
def label(
    serial: str, name: str, request: Request, viewer: LabelView, session: SessionDep, keys: KeysDep
) -> Response:
    """One label, as ``GET /api/v1/devices/{serial}/labels/{name}`` draws it."""
    found = _device(session, serial)
    if found is None or name not in LABELS:
        return not_found(request, viewer, "This label")
    kind, extension = LABELS[name]
    try:
        drawn = label_sheets.device_label(found, kind, keys=keys)
    except LabelsUnavailable as gone:
        return refused_page(request, viewer, str(gone), status=409, heading="Labels unavailable")
    except SealError:
        return refused_page(
            request, viewer, "The label's sealed codes cannot be opened.", status=500
        )
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'"}
    if extension == "png":
        return Response(render_png(drawn), media_type="image/png", headers=headers)
    return Response(render_svg(drawn), media_type="image/svg+xml", headers=headers)
