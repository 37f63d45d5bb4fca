"""Station logs: where stations upload them (``POST /logs/{token}/[file]``, guarded by the
signed token of the GetLog / GetDiagnostics request) and where admins read the list.

Uploads are multipart (field ``file``), as stations send them, within the platform's body
limit; each lands under ``data-dir/station-logs/<station>/<request>-<file>`` and is audited.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from app import audit
from app.api.pagination import Page, PageQuery, paginate_list
from app.deps import AdminPrincipal, PlatformDep, SessionDep, client_address
from app.platform import Platform
from app.problems import Problem, not_found
from charging.tables import Station
from common.clock import utcnow
from firmware.log_uploads import derive_upload_key, stored_name, upload_grant

router = APIRouter(tags=["station logs"])

_STATION = r"^[\x21-\x7e]{1,48}$"


class StationLogPublic(BaseModel):
    name: str
    size: int
    uploaded_at: datetime


def logs_dir(platform: Platform, station_id: str) -> FilePath:
    # station ids are printable ASCII; keep path separators out of the directory name
    return platform.settings.data_dir / "station-logs" / station_id.replace("/", "%2F")


async def _receive(
    request: Request, platform: Platform, token: str, name: str | None
) -> dict[str, Any]:
    key = derive_upload_key(platform.settings.secret_key.get_secret_value())
    grant = upload_grant(key, token, now=utcnow())  # forged / expired: the domain error map
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "validation-error", "a log upload is multipart with a field 'file'")
        filename = name or upload.filename
        data = await upload.read()
    target = logs_dir(platform, grant.station_id) / stored_name(grant.image_id, filename)

    def store() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(data)
        partial.replace(target)
        audit.record_apart(
            platform.engine,
            audit.Actor(f"station:{grant.station_id}", client_address(request)),
            "station.log_uploaded",
            object_type="station",
            object_id=grant.station_id,
            request_id=grant.image_id,
            target_id=grant.target_id,
            name=target.name,
            size=len(data),
        )

    await asyncio.to_thread(store)
    return {"station_id": grant.station_id, "name": target.name, "size": len(data)}


@router.post("/logs/{token}", status_code=201, summary="A station uploads its log")
@router.post("/logs/{token}/", status_code=201, include_in_schema=False)
async def upload_log(request: Request, platform: PlatformDep, token: str) -> dict[str, Any]:
    return await _receive(request, platform, token, None)


@router.post(
    "/logs/{token}/{filename}", status_code=201, summary="A station uploads its log (named)"
)
async def upload_named_log(
    request: Request, platform: PlatformDep, token: str, filename: str
) -> dict[str, Any]:
    return await _receive(request, platform, token, filename)


@router.get(
    "/api/v1/stations/{station_id}/logs",
    summary="Logs a station uploaded, newest first (admin)",
    response_model_by_alias=True,
)
def station_logs(
    request: Request,
    station_id: Annotated[str, Path(pattern=_STATION)],
    platform: PlatformDep,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
) -> Page[StationLogPublic]:
    folder = logs_dir(platform, station_id)
    if not folder.is_dir():
        if session.get(Station, station_id) is None:
            raise not_found(f"station {station_id}")
        return Page(items=[], total=0, limit=page.limit, offset=page.offset, links={})
    found = [
        StationLogPublic(
            name=path.name,
            size=path.stat().st_size,
            uploaded_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        )
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".")
    ]
    found.sort(key=lambda log: log.uploaded_at, reverse=True)
    items, total, links = paginate_list(found, page, request)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset, links=links)
