"""Firmware images (admin): streamed upload, list, read, re-verify, promote, delete."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.bounds import PositiveInt32
from app.api.firmware_form import FILE_FIELD, read_upload_form
from app.api.pagination import Page, PageQuery, paginate_list
from app.deps import ActorDep, AdminPrincipal, NowDep, PlatformDep, SessionDep
from app.firmware_accept import accept_upload
from app.platform import Platform
from firmware import catalog, images
from firmware.errors import MalformedUpload
from firmware.staging import StagedImage
from firmware.tables import FirmwareImageRow

router = APIRouter(prefix="/api/v1", tags=["firmware"])

UPLOAD_PATH = "/api/v1/firmware/images"
OWN_BODY_LIMIT = frozenset({("POST", UPLOAD_PATH)})
"""Routes that enforce their own body limit while streaming (``app.middleware``)."""

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class ImagePublic(BaseModel):
    id: int
    family: str
    version: str
    filename: str
    size: int
    sha256: str
    md5: str
    signed: bool
    signature: str | None
    signing_certificate: str | None
    signature_algorithm: str | None
    release_notes: str
    channels: list[str]
    created_by: str
    created_at: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, row: FirmwareImageRow, family: str, channels: list[str]) -> ImagePublic:
        base = f"/api/v1/firmware/images/{row.id}"
        return cls(
            id=row.id or 0,
            family=family,
            version=row.version,
            filename=row.filename,
            size=row.size,
            sha256=row.sha256,
            md5=row.md5,
            signed=row.signature is not None,
            signature=row.signature,
            signing_certificate=row.signing_certificate,
            signature_algorithm=row.signature_algorithm,
            release_notes=row.release_notes,
            channels=channels,
            created_by=row.created_by,
            created_at=row.created_at,
            links={
                "self": {"href": base},
                "family": {"href": f"/api/v1/families/{family}"},
                "channels": {"href": f"/api/v1/families/{family}/channels"},
                "verify": {"href": f"{base}/verify"},
                "promote": {"href": f"{base}/promote"},
            },
        )


def image_public(session: Session, row: FirmwareImageRow) -> ImagePublic:
    family = catalog.family_by_id(session, row.family_id)
    return ImagePublic.of(row, family.name, catalog.channels_carrying(session, row.id or 0))


def _flag(fields: dict[str, str], name: str) -> bool:
    value = fields.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise MalformedUpload(f"{name} must be true or false, not {value[:20]!r}", field=name)


def upload_of(fields: dict[str, str], filename: str) -> images.ImageUpload:
    """The upload's text fields read and checked (the dashboard's upload form shares this)."""
    known = {
        "family", "version", "notes", "release_notes", "sha256", "md5",
        "sign", "signature", "certificate", "unsigned",
    }  # fmt: skip
    unknown = sorted(set(fields) - known)
    if unknown:
        raise MalformedUpload(f"unknown field(s): {', '.join(n[:40] for n in unknown)}")
    for required in ("family", "version"):
        if not fields.get(required, "").strip():
            raise MalformedUpload(f"the field {required!r} is required", field=required)
    return images.ImageUpload(
        family=fields["family"].strip(),
        version=fields["version"].strip(),
        filename=filename,
        release_notes=fields.get("notes", fields.get("release_notes", "")),
        sha256=fields.get("sha256") or None,
        md5=fields.get("md5") or None,
        sign=_flag(fields, "sign"),
        signature=fields.get("signature") or None,
        certificate=fields.get("certificate") or None,
        unsigned=_flag(fields, "unsigned"),
    ).checked()


def _accept(
    platform: Platform, upload: images.ImageUpload, staged: StagedImage, actor: audit.Actor
) -> ImagePublic:
    with Session(platform.engine, expire_on_commit=False) as session:
        row = accept_upload(platform, session, upload, staged, actor)
        return image_public(session, row)


@router.post(
    "/firmware/images",
    status_code=201,
    summary="Upload a firmware image (admin; multipart, streamed)",
    response_model_by_alias=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["family", "version", FILE_FIELD],
                        "properties": {
                            "family": {"type": "string"},
                            "version": {"type": "string"},
                            "notes": {"type": "string"},
                            "sha256": {"type": "string"},
                            "md5": {"type": "string"},
                            "sign": {"type": "boolean"},
                            "unsigned": {"type": "boolean"},
                            "signature": {"type": "string", "description": "base64"},
                            "certificate": {"type": "string", "description": "PEM"},
                            FILE_FIELD: {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def upload_image(
    request: Request, platform: PlatformDep, _admin: AdminPrincipal, actor: ActorDep
) -> ImagePublic:
    settings = platform.settings
    with StagedImage(
        settings.data_dir / "staging", max_bytes=settings.firmware_max_bytes
    ) as staged:
        form = await read_upload_form(request, staged)
        assert form.filename is not None
        upload = upload_of(form.fields, form.filename)
        return await run_in_threadpool(_accept, platform, upload, staged, actor)


@router.get("/firmware/images", summary="Firmware images (admin)", response_model_by_alias=True)
def list_images(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    family: str | None = None,
) -> Page[ImagePublic]:
    family_id = None if family is None else catalog.family(session, family).id
    rows = catalog.images_of(session, family_id)
    items, total, links = paginate_list(rows, page, request)
    return Page(
        items=[image_public(session, row) for row in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.get(
    "/firmware/images/{image_id}",
    summary="One firmware image (admin)",
    response_model_by_alias=True,
)
def get_image(image_id: PositiveInt32, session: SessionDep, _admin: AdminPrincipal) -> ImagePublic:
    return image_public(session, catalog.image(session, image_id))


@router.delete(
    "/firmware/images/{image_id}", status_code=204, summary="Delete an unused image (admin)"
)
def delete_image(
    image_id: PositiveInt32,
    session: SessionDep,
    platform: PlatformDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> Response:
    images.delete_image(
        session, image_id, store=platform.artifacts, actor=actor, audit=audit.record
    )
    return Response(status_code=204)


class VerificationPublic(BaseModel):
    image_id: int
    valid: bool
    problem: str | None
    detail: str | None
    signature_algorithm: str | None
    checked_at: datetime


@router.post(
    "/firmware/images/{image_id}/verify",
    summary="Re-verify a stored image: bytes, digest and signature as of now (admin)",
)
def verify_image(
    image_id: PositiveInt32,
    session: SessionDep,
    platform: PlatformDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
    now: NowDep,
) -> VerificationPublic:
    result = images.reverify(
        session,
        image_id,
        store=platform.artifacts,
        signer=platform.firmware_signer,
        actor=actor,
        now=now,
        audit=audit.record,
    )
    return VerificationPublic(
        image_id=image_id,
        valid=result.valid,
        problem=result.problem,
        detail=result.detail,
        signature_algorithm=result.signature_algorithm,
        checked_at=now,
    )


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=32)
    force: bool = False


@router.post(
    "/firmware/images/{image_id}/promote",
    summary="Put an image on a channel of its family (admin)",
    response_model_by_alias=True,
)
def promote_image(
    image_id: PositiveInt32,
    body: Promotion,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> ImagePublic:
    catalog.promote(session, image_id, body.channel, actor, force=body.force, audit=audit.record)
    return image_public(session, catalog.image(session, image_id))
