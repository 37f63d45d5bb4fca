"""The owner's stations: pairing by the two QR labels, listing, giving a station up.

``POST /pairings`` takes each label as scanned (its QR payload) or typed (the text printed under
its code): 201 and the caller owns the station; 422 names the refusal reason; 403
for codes that do not match (never which one); 429 with ``Retry-After`` after repeated failures
on the device or by the user; 409 when the station has an owner or is not released (naming its
state). ``DELETE /stations/{serial}/ownership`` (the owner, or an admin) returns the device to
``released`` and cuts every member off: memberships, invitations, cards (pushed to the station)
and user certificates.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.app_common import AppUser, pepper
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.identity import accounts
from app.ownership import PAIRING_GATE, UserCertificates
from app.platform import Platform
from charging import cards
from charging.tables import Station
from enrollment.invitations import Permission, Role, has_permission
from enrollment.lifecycle import DeviceState
from enrollment.ownership import access, members, pairing
from enrollment.ownership.errors import NotVisible
from enrollment.tables import DeviceRow

router = APIRouter(prefix="/api/v1/app", tags=["app: stations"])


class PairingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_label: str = Field(
        min_length=1,
        max_length=256,
        description="the device label's QR payload, or the text printed under it",
    )
    packaging_label: str = Field(
        min_length=1,
        max_length=256,
        description="the packaging label's QR payload, or the code printed under it",
    )
    serial: str | None = Field(
        default=None,
        max_length=64,
        description="the station's serial number, needed only when both codes are typed "
        "without their 'SN' line",
    )


class StationPublic(BaseModel):
    serial: str
    role: str
    online: bool
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


def station_public(session: Session, serial: str, role: str) -> StationPublic:
    station = session.get(Station, serial)
    base = f"/api/v1/app/stations/{serial}"
    links = {
        "self": {"href": base},
        "charging": {"href": f"{base}/charging"},
        "sessions": {"href": f"/api/v1/app/sessions?station={serial}"},
    }
    if has_permission(Role(role), Permission.INVITE_MEMBERS):
        links["members"] = {"href": f"{base}/members"}
        links["invitations"] = {"href": f"{base}/invitations"}
    if has_permission(Role(role), Permission.UNPAIR):
        links["ownership"] = {"href": f"{base}/ownership"}
    return StationPublic(
        serial=serial,
        role=role,
        online=bool(station and station.online),
        links=links,
    )


@router.post(
    "/pairings",
    status_code=201,
    summary="Pair a station with both scanned QR labels",
    response_model_by_alias=True,
)
def pair(
    body: PairingBody,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    response: Response,
) -> StationPublic:
    accounts.require_verified(session, user.subject)
    paired = pairing.pair(
        session,
        body.device_label,
        body.packaging_label,
        user_id=user.subject,
        pepper=pepper(platform),
        gate=PAIRING_GATE,
        audit=audit.record,
        actor=actor,
        now=now,
        serial=body.serial,
    )
    platform.events.invalidate(user.subject)
    response.headers["Location"] = f"/api/v1/app/stations/{paired.serial}"
    return station_public(session, paired.serial, paired.role.value)


@router.get("/stations", summary="The stations the caller may use", response_model_by_alias=True)
def list_stations(user: AppUser, session: SessionDep) -> dict[str, Any]:
    rows = sorted(access.memberships_of(session, user.subject), key=lambda m: m.station_serial)
    items = [station_public(session, m.station_serial, m.role) for m in rows]
    return {
        "items": [item.model_dump(by_alias=True) for item in items],
        "total": len(items),
        "_links": {
            "self": {"href": "/api/v1/app/stations"},
            "pair": {"href": "/api/v1/app/pairings"},
        },
    }


@router.get("/stations/{serial}", summary="One station", response_model_by_alias=True)
def get_station(serial: str, user: AppUser, session: SessionDep) -> StationPublic:
    found = access.require_member(session, serial, user.subject)
    return station_public(session, found.station_serial, found.role)


async def release_ownership(
    platform: Platform, session: Session, serial: str, *, actor: Any, now: Any
) -> None:
    def record() -> list[str]:
        former = pairing.unpair(session, serial, audit=audit.record, actor=actor, now=now)
        issuer = UserCertificates(platform.ca)
        for user_id in former:
            members.cut_off(
                session,
                serial,
                user_id,
                issuer=issuer,
                withdraw_cards=cards.cut_off,
                actor=actor,
                now=now,
            )
        session.commit()
        return former

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    former = await run_in_threadpool(record)
    for user_id in former:
        platform.events.invalidate(user_id)
    await platform.station_sync.push_local_list(serial)


@router.delete(
    "/stations/{serial}/ownership",
    status_code=204,
    summary="Give the station up (owner) or take it from its owner (admin)",
)
async def unpair(
    serial: str,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> Response:
    def check() -> str:
        if "admin" in user.roles:
            canonical = access.canonical_serial(serial)
            device = session.get(DeviceRow, canonical)
            if device is None or device.state != DeviceState.PAIRED.value:
                raise NotVisible("paired station")
        else:
            canonical = access.require_permission(
                session, serial, user.subject, Permission.UNPAIR
            ).station_serial
        return canonical

    canonical = await run_in_threadpool(check)
    await release_ownership(platform, session, canonical, actor=actor, now=now)
    return Response(status_code=204)
