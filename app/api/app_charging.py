"""Charging from the app: start and stop, past and live sessions, user certificates.

Start needs ``start_charging`` on the station (any member) and carries the caller's app token;
stop needs ``stop_any_charging`` or the caller's own session. The station's answer is passed
through; offline -> 409, no answer -> 504, a CALLERROR -> 502 (as ``app.api.commands``).
Sessions list and detail show each caller only what ``charging.sessions`` lets them see.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from app.api.app_common import AppUser
from app.api.bounds import PositiveInt32
from app.api.commands import CommandAnswer, dispatch, start_charging
from app.api.pagination import PageQuery, paginate
from app.ca import IssuedCertificate
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.identity import accounts
from app.ownership import MEMBERSHIPS, UserCertificates
from charging import sessions
from charging.commands import StopCharging
from charging.errors import NotAllowed
from charging.events import IdToken, IdTokenType
from charging.tables import Transaction
from enrollment.invitations import Permission, Role, has_permission
from enrollment.ownership import access, certificates

router = APIRouter(prefix="/api/v1/app", tags=["app: charging"])


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evse_id: int | None = Field(default=None, ge=1, le=100)


class CertificateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csr: str = Field(min_length=1, max_length=5500, description="PKCS#10 PEM")
    stations: list[str] | None = Field(default=None, max_length=50)
    validity_hours: int = Field(default=24, ge=1, le=168)


class SessionPublic(BaseModel):
    id: int
    station: str
    evse_id: int | None
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    energy_wh: float | None
    stop_reason: str | None
    own: bool
    remote_start_id: int | None = None
    started_by: str | None = None


def _public(tx: Transaction, energy: float | None, own: bool) -> SessionPublic:
    assert tx.id is not None
    return SessionPublic(
        id=tx.id,
        station=tx.station_id,
        evse_id=tx.evse_id,
        state=tx.state,
        started_at=tx.started_at,
        ended_at=tx.ended_at,
        energy_wh=energy,
        stop_reason=tx.stop_reason,
        own=own,
        remote_start_id=tx.remote_start_id,
        started_by=tx.started_by,
    )


@router.post("/stations/{serial}/charging", summary="Start charging with the caller's app token")
async def start(
    serial: str,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    body: StartBody | None = Body(default=None),  # noqa: B008
) -> CommandAnswer:
    def check() -> tuple[str, str]:
        found = access.require_permission(session, serial, user.subject, Permission.START_CHARGING)
        accounts.require_verified(session, user.subject)
        token = sessions.app_token(session, user.subject)
        session.commit()
        return found.station_serial, token

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    station_serial, token = await run_in_threadpool(check)
    return await start_charging(
        platform,
        session,
        actor,
        station_serial,
        IdToken(token, IdTokenType.CENTRAL),
        (body or StartBody()).evse_id,
    )


@router.post("/sessions/{transaction_id}/stop", summary="Stop a charging session")
async def stop(
    transaction_id: PositiveInt32,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
) -> CommandAnswer:
    def check() -> Transaction:
        tx = sessions.visible_transaction(session, MEMBERSHIPS, user.subject, transaction_id)
        found = access.require_member(session, tx.station_id, user.subject)
        may_stop = has_permission(Role(found.role), Permission.STOP_ANY_CHARGING) or (
            sessions.is_own(session, user.subject, tx)
            and has_permission(Role(found.role), Permission.STOP_OWN_CHARGING)
        )
        if not may_stop:
            raise NotAllowed()
        return tx

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    tx = await run_in_threadpool(check)
    return await dispatch(platform, session, actor, tx.station_id, StopCharging(tx.transaction_ref))


@router.get("/sessions", summary="Charging sessions the caller may see, newest first")
def list_sessions(
    request: Request,
    user: AppUser,
    session: SessionDep,
    page: PageQuery,
    station: str | None = None,
) -> dict[str, Any]:
    query = select(Transaction).where(sessions.visible_filter(session, MEMBERSHIPS, user.subject))
    if station is not None:
        query = query.where(Transaction.station_id == station)
    query = query.order_by(col(Transaction.started_at).desc(), col(Transaction.id).desc())
    rows, total, links = paginate(session, query, page, request)
    tokens = set(sessions.tokens_of(session, user.subject))
    items = [
        _public(tx, tx.energy_wh, tx.id_token in tokens).model_dump(mode="json") for tx in rows
    ]
    return {
        "items": items,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "_links": links,
    }


@router.get("/sessions/{transaction_id}", summary="One session with its energy and charging curve")
def get_session(
    transaction_id: PositiveInt32, user: AppUser, session: SessionDep
) -> dict[str, Any]:
    tx = sessions.visible_transaction(session, MEMBERSHIPS, user.subject, transaction_id)
    shown = sessions.detail(session, tx)
    body = _public(tx, shown.energy_wh, sessions.is_own(session, user.subject, tx)).model_dump(
        mode="json"
    )
    body["curve"] = [{"t": p.t.isoformat(), "power_w": p.power_w} for p in shown.curve]
    body["_links"] = {
        "self": {"href": f"/api/v1/app/sessions/{transaction_id}"},
        "stop": {"href": f"/api/v1/app/sessions/{transaction_id}/stop"},
        "station": {"href": f"/api/v1/app/stations/{tx.station_id}"},
    }
    return body


@router.post("/certificates", status_code=201, summary="A short-lived user certificate from a CSR")
async def issue_certificate(
    body: CertificateBody,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> dict[str, Any]:
    def record() -> tuple[IssuedCertificate, list[str]]:
        accounts.require_verified(session, user.subject)
        issued, serials = certificates.issue(
            session,
            UserCertificates(platform.ca),
            body.csr,
            user_id=user.subject,
            stations=body.stations,
            validity=timedelta(hours=body.validity_hours),
            actor=actor,
            now=now,
        )
        session.commit()
        return issued, serials

    # Signing and the database (SQLite's writer lock) must not stall the event loop.
    issued, serials = await run_in_threadpool(record)
    for serial in serials:
        await platform.station_sync.install_user_ca(serial)
    return {
        "serial": issued.serial_hex,
        "certificate": issued.certificate_pem,
        "chain": issued.chain_pem,
        "root": issued.root_pem,
        "not_after": issued.not_after.isoformat(),
        "stations": serials,
    }
