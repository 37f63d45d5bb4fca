"""``/firmware``: channels per family and the images; ``/firmware/images/{id}``: one image, its
verification, the channels carrying it, promotion and re-verification (admin). The rollout
pages (``/firmware/rollouts...``, in :mod:`app.dashboard.pages.rollouts`) come with this router."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import audit
from app.dashboard.auth import AdminAction, ReadView
from app.dashboard.pages import firmware_upload, rollouts
from app.dashboard.pages.lookups import not_found, number
from app.dashboard.paging import page_of, window
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import NowDep, PlatformDep, SessionDep, client_address
from firmware import catalog, images, listing
from firmware.errors import Downgrade, FirmwareError, UnknownChannel, UnknownImage
from firmware.tables import FirmwareImageRow

router = APIRouter(include_in_schema=False)
router.include_router(rollouts.router)  # /firmware/rollouts...
router.include_router(firmware_upload.router)  # /firmware/images/new, before /{image_id}

MAX_FAMILIES = 100
DONE = {
    "promoted": "The image is on the channel now.",
    "uploaded": "The image is verified and stored.",
}


@router.get("/firmware", response_class=HTMLResponse)
def firmware_index(request: Request, viewer: ReadView, session: SessionDep) -> Response:
    win = window(request)
    rows = listing.images_page(session, offset=win.offset, limit=win.limit + 1)
    return render(
        request,
        "firmware/index.html",
        viewer,
        title="Firmware",
        families=listing.families_with_channels(session, offset=0, limit=MAX_FAMILIES),
        max_families=MAX_FAMILIES,
        images=page_of(request, rows, win, total=None),
    )


def _certificate(pem: str | None) -> dict[str, str] | None:
    if not pem:
        return None
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return {"subject": "(unreadable certificate)", "issuer": "", "valid": "", "serial": ""}
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "valid": f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}",
        "serial": f"{cert.serial_number:X}",
    }


def _image_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    row: FirmwareImageRow,
    *,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    family = catalog.family_by_id(session, row.family_id)
    context: dict[str, Any] = {
        "error": "",
        "verification": None,
        "errors": {},
        "channel": "",
        "checked_at": None,
        "done": DONE.get(request.query_params.get("done", ""), ""),
        **extra,
    }
    return render(
        request,
        "firmware/image.html",
        viewer,
        status=status,
        title=f"Firmware {row.version}",
        image=row,
        family=family,
        certificate=_certificate(row.signing_certificate),
        carrying=catalog.channels_carrying(session, row.id or 0),
        channels=[c.name for c in catalog.channels(session, row.family_id)],
        **context,
    )


@router.get("/firmware/images/{image_id}", response_class=HTMLResponse)
def image_detail(
    request: Request, image_id: str, viewer: ReadView, session: SessionDep
) -> Response:
    found = number(image_id)
    row = None if found is None else session.get(FirmwareImageRow, found)
    if row is None:
        return not_found(request, viewer, "firmware image with that id")
    return _image_page(request, viewer, session, row)


@router.post("/firmware/images/{image_id}/promote", response_class=HTMLResponse)
async def promote_image(
    request: Request, image_id: str, viewer: AdminAction, session: SessionDep
) -> Response:
    found = number(image_id)
    row = None if found is None else session.get(FirmwareImageRow, found)
    if row is None or row.id is None:
        return not_found(request, viewer, "firmware image with that id")
    form = await request.form()
    raw = form.get("channel")
    channel = raw.strip()[:40] if isinstance(raw, str) else ""
    force = form.get("force") == "on"
    actor = audit.Actor(viewer.actor_name, client_address(request))
    try:
        if not catalog.has_channel(session, row.family_id, channel):
            raise UnknownChannel(catalog.family_by_id(session, row.family_id).name, channel)
        catalog.promote(session, row.id, channel, actor, force=force, audit=audit.record)
    except (UnknownChannel, UnknownImage) as exc:
        session.rollback()
        errors = {"channel": str(exc)}
        return _image_page(
            request, viewer, session, row, status=422, errors=errors, channel=channel
        )
    except Downgrade as exc:
        session.rollback()
        return _image_page(
            request, viewer, session, row, status=409, error=str(exc), channel=channel
        )
    return RedirectResponse(f"/firmware/images/{row.id}?done=promoted", status_code=303)


@router.post("/firmware/images/{image_id}/verify", response_class=HTMLResponse)
def verify_image(
    request: Request,
    image_id: str,
    viewer: AdminAction,
    session: SessionDep,
    platform: PlatformDep,
    now: NowDep,
) -> Response:
    found = number(image_id)
    row = None if found is None else session.get(FirmwareImageRow, found)
    if row is None or row.id is None:
        return not_found(request, viewer, "firmware image with that id")
    actor = audit.Actor(viewer.actor_name, client_address(request))
    try:
        result = images.reverify(
            session,
            row.id,
            store=platform.artifacts,
            signer=platform.firmware_signer,
            actor=actor,
            now=now,
            audit=audit.record,
        )
    except FirmwareError as exc:
        session.rollback()
        return _image_page(request, viewer, session, row, status=409, error=str(exc))
    return _image_page(request, viewer, session, row, verification=result, checked_at=now)
