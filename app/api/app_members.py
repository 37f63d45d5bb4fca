"""Co-owners and guests: invitations by e-mail, acceptance, the member list, removal.

Owners invite co-owners and guests, co-owners invite guests (``enrollment.invitations``). The
invitation link carries a single-use token valid 7 days. Accepting needs a logged-in user whose
address is the invited one (403 otherwise); unknown or forged tokens answer 404, used, expired
and revoked ones 410. Removing a member revokes their certificates and cards on the station and
pushes the new local list to it before answering.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.app_common import AppUser, MailerDep, link, send_later
from app.api.app_stations import station_public
from app.api.pagination import Page, PageQuery, paginate_list
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.identity import accounts
from app.identity.tables import User
from app.mail import Mail
from app.ownership import UserCertificates
from charging import cards
from enrollment.invitations import Permission, Role
from enrollment.ownership import access, members

router = APIRouter(prefix="/api/v1/app", tags=["app: members"])


class InvitationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    role: Role


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256)


class InvitationPublic(BaseModel):
    id: int
    station: str
    email: str
    role: str
    expires_at: datetime


class MemberPublic(BaseModel):
    user_id: str
    email: str
    role: str
    since: datetime


@router.post("/stations/{serial}/invitations", status_code=201, summary="Invite by e-mail")
def invite(
    serial: str,
    body: InvitationBody,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> InvitationPublic:
    inviter = access.require_permission(session, serial, user.subject, Permission.INVITE_MEMBERS)
    accounts.require_verified(session, user.subject)
    token, row = members.invite(
        session,
        inviter,
        accounts.normalise_email(body.email),
        body.role,
        audit=audit.record,
        actor=actor,
        now=now,
    )
    session.commit()
    assert row.id is not None
    role_text = "a co-owner" if row.role == Role.CO_OWNER.value else "a guest"
    background.add_task(
        send_later,
        mailer,
        Mail(
            row.email,
            f"You are invited to charging station {row.station_serial}",
            f"You are invited as {role_text} of charging station {row.station_serial}.\n"
            "Log in to the Chargeline app with this address (or sign up) and open this link "
            f"within 7 days:\n{link(platform, '/app/invitations/accept', token)}\n"
            f"\nIf the link does not open, enter this code in the app:\n{token}\n",
        ),
    )
    return InvitationPublic(
        id=row.id,
        station=row.station_serial,
        email=row.email,
        role=row.role,
        expires_at=row.expires_at,
    )


@router.post("/invitations/accept", summary="Accept an invitation", response_model_by_alias=True)
def accept(
    body: AcceptBody,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> Any:
    row = session.get(User, user.subject)
    if row is None:
        raise accounts.UnknownAccount()
    joined = members.accept(
        session, body.token, row.id, row.email, audit=audit.record, actor=actor, now=now
    )
    accounts.mark_verified(session, row)
    platform.events.invalidate(user.subject)
    return station_public(session, joined.station_serial, joined.role).model_dump(by_alias=True)


@router.get(
    "/stations/{serial}/members", summary="Members of the station", response_model_by_alias=True
)
def list_members(
    serial: str, request: Request, user: AppUser, session: SessionDep, page: PageQuery
) -> Page[MemberPublic]:
    found = access.require_permission(session, serial, user.subject, Permission.INVITE_MEMBERS)
    items = [
        MemberPublic(user_id=m.user_id, email=m.email, role=m.role, since=m.since)
        for m in members.members(session, found.station_serial)
    ]
    listed, total, links = paginate_list(items, page, request)
    return Page(items=listed, total=total, limit=page.limit, offset=page.offset, links=links)


@router.delete(
    "/stations/{serial}/members/{user_id}",
    status_code=204,
    summary="Remove a member (or leave): cards, certificates and access end at once",
)
async def remove_member(
    serial: str,
    user_id: str,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> Response:
    def record() -> str:
        remover = access.require_member(session, serial, user.subject)
        if user_id != user.subject:
            remover = access.require_permission(
                session, serial, user.subject, Permission.REMOVE_MEMBERS
            )
        members.remove(
            session,
            remover,
            user_id,
            issuer=UserCertificates(platform.ca),
            withdraw_cards=cards.cut_off,
            audit=audit.record,
            actor=actor,
            now=now,
        )
        session.commit()
        return remover.station_serial

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    station_serial = await run_in_threadpool(record)
    platform.events.invalidate(user_id)
    await platform.station_sync.push_local_list(station_serial)
    return Response(status_code=204)
