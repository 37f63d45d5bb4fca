"""``/firmware/images/new``: uploading an image from the browser (admin), streamed like the REST
upload: the file goes to staging chunk by chunk under ``firmware_max_bytes``, never whole into
memory, and is accepted through the same call (``app.firmware_accept``).

The form's CSRF token travels in the multipart body, so it is checked once the body is read and
before anything is accepted; the role and the ``Origin`` are checked before a byte is read.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.firmware_form import read_upload_form
from app.api.firmware_images import upload_of
from app.dashboard.auth import PageForbidden, ReadView, ViewerDep, same_origin
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import PlatformDep, client_address
from app.firmware_accept import accept_upload
from app.platform import Platform
from enrollment.tables import HardwareFamilyRow
from firmware import images
from firmware.errors import (
    ChecksumMismatch,
    DuplicateVersion,
    FirmwareError,
    ImageTooLarge,
    MalformedUpload,
    UnknownFamily,
)
from firmware.signatures import SignatureError
from firmware.staging import StagedImage

router = APIRouter(include_in_schema=False)

UPLOAD_PATH = "/firmware/images/new"
OWN_BODY_LIMIT = frozenset({("POST", UPLOAD_PATH)})
"""Streamed with the firmware limit, not the general body limit (``app.middleware``)."""
MAX_FAMILIES = 500
TEXT_FIELDS = ("family", "version", "notes", "sha256", "signing", "signature", "certificate")
SIGNING = (
    ("platform", "Sign it with the platform's firmware-signing key"),
    ("provided", "It comes signed: paste the signature and the signer's certificate"),
    ("unsigned", "Unsigned (only rollouts that allow unsigned images may send it)"),
)


def uploading_admin(request: Request, viewer: ViewerDep) -> Viewer:
    """An admin posting from this site; the CSRF token is checked after the body is read."""
    if not viewer.has("admin"):
        raise PageForbidden("this action needs the role admin")
    if not same_origin(request, request.headers.get("origin")):
        raise PageForbidden("this form was posted from another site")
    return viewer


UploadingAdmin = Annotated[Viewer, Depends(uploading_admin)]


def _families(platform: Platform) -> list[str]:
    with Session(platform.engine) as session:
        query = select(HardwareFamilyRow.name).order_by(col(HardwareFamilyRow.name))
        return [str(name) for name in session.exec(query.limit(MAX_FAMILIES))]


def _form(
    request: Request,
    viewer: Viewer,
    platform: Platform,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    shown = dict.fromkeys(TEXT_FIELDS, "") | {"signing": "platform"} | (values or {})
    return render(
        request,
        "firmware/upload.html",
        viewer,
        status=status,
        title="Upload firmware",
        values=shown,
        errors=errors or {},
        error=error,
        families=[("", "choose a family"), *((f, f) for f in _families(platform))],
        signing=SIGNING,
        max_bytes=platform.settings.firmware_max_bytes,
    )


@router.get(UPLOAD_PATH, response_class=HTMLResponse)
def upload_form(request: Request, viewer: ReadView, platform: PlatformDep) -> Response:
    return _form(request, viewer, platform)


def _upload_fields(fields: dict[str, str]) -> dict[str, str]:
    """The form's fields as the upload call reads them (the signing choice as its flags)."""
    chosen = fields.get("signing", "")
    result: dict[str, str] = {
        name: fields[name] for name in ("family", "version", "notes", "sha256") if name in fields
    }
    if chosen == "platform":
        result["sign"] = "true"
    elif chosen == "unsigned":
        result["unsigned"] = "true"
    else:
        for name in ("signature", "certificate"):
            result[name] = fields.get(name, "").strip()
            if not result[name]:
                raise MalformedUpload(f"a pre-signed image needs its {name}", field=name)
    return result


def _field_of(exc: FirmwareError) -> str:
    named = getattr(exc, "field", None)
    if isinstance(named, str) and named in (*TEXT_FIELDS, "file"):
        return named
    if isinstance(exc, UnknownFamily):
        return "family"
    if isinstance(exc, DuplicateVersion):
        return "version"
    if isinstance(exc, ChecksumMismatch):
        return "sha256"
    if isinstance(exc, ImageTooLarge):
        return "file"
    if isinstance(exc, SignatureError):
        return "signature"
    return "signing" if named in ("sign", "unsigned") else ""


def _accept(
    platform: Platform, upload: images.ImageUpload, staged: StagedImage, actor: audit.Actor
) -> int:
    with Session(platform.engine, expire_on_commit=False) as session:
        return accept_upload(platform, session, upload, staged, actor).id or 0


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
async def upload_image(request: Request, viewer: UploadingAdmin, platform: PlatformDep) -> Response:
    settings = platform.settings
    fields: dict[str, str] = {}
    try:
        with StagedImage(
            settings.data_dir / "staging", max_bytes=settings.firmware_max_bytes
        ) as staged:
            form = await read_upload_form(request, staged)
            fields = form.fields
            sent = fields.pop("csrf_token", "")
            if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
                raise PageForbidden("the form's CSRF token is missing or wrong: reload the page")
            assert form.filename is not None
            upload = upload_of(_upload_fields(fields), form.filename)
            actor = audit.Actor(viewer.actor_name, client_address(request))
            image_id = await run_in_threadpool(_accept, platform, upload, staged, actor)
    except FirmwareError as exc:
        values: dict[str, Any] = {k: v[:20_000] for k, v in fields.items() if k in TEXT_FIELDS}
        name = _field_of(exc)
        return _form(
            request,
            viewer,
            platform,
            values=values,
            errors={name: str(exc)} if name else {},
            error="" if name else str(exc),
            status=413 if isinstance(exc, ImageTooLarge) else 422,
        )
    return RedirectResponse(f"/firmware/images/{image_id}?done=uploaded", status_code=303)
