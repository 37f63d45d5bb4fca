"""RFID cards: owners and co-owners register them; stations get them by ``SendLocalList``.

``POST /cards`` grants a card (the caller's, or a member's they name) on every station where the
caller may register cards and the holder is a member, and pushes the differential update to
the stations online before answering; offline stations get it when they connect.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.app_common import AppUser
from app.api.pagination import Page, PageQuery, paginate_list
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.identity import accounts
from app.ownership import MEMBERSHIPS
from app.problems import Problem
from charging import cards
from charging.events import IdTokenType

router = APIRouter(prefix="/api/v1/app", tags=["app: cards"])

CARD_TYPES = (IdTokenType.ISO14443, IdTokenType.ISO15693, IdTokenType.KEY_CODE, IdTokenType.LOCAL)


class CardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_token: str = Field(
        min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$", description="the card's UID"
    )
    type: IdTokenType = IdTokenType.ISO14443
    holder_user_id: str | None = Field(default=None, max_length=36)


class CardPublic(BaseModel):
    id_token: str
    type: str
    holder_user_id: str | None
    status: str
    stations: list[str]


def _public(card: cards.Card) -> CardPublic:
    return CardPublic(
        id_token=card.value,
        type=card.type,
        holder_user_id=card.holder_user_id,
        status=card.status,
        stations=list(card.stations),
    )


@router.post("/cards", status_code=201, summary="Register an RFID card")
async def register_card(
    body: CardBody,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> CardPublic:
    def record() -> tuple[cards.Card, list[str]]:
        if body.type not in CARD_TYPES:
            raise Problem(
                422, "invalid-card-type", f"cards are one of {[t.value for t in CARD_TYPES]}"
            )
        accounts.require_verified(session, user.subject)
        card, changed = cards.register(
            session,
            MEMBERSHIPS,
            registrar_id=user.subject,
            value=body.id_token,
            token_type=body.type.value,
            holder_id=body.holder_user_id,
            audit=audit.record,
            actor=actor,
            now=now,
        )
        session.commit()
        return card, changed

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    card, changed = await run_in_threadpool(record)
    await platform.station_sync.push_many(changed)
    return _public(card)


@router.get("/cards", summary="Cards the caller holds or manages", response_model_by_alias=True)
def list_cards(
    request: Request, user: AppUser, session: SessionDep, page: PageQuery
) -> Page[CardPublic]:
    held = [_public(c) for c in cards.cards_for(session, MEMBERSHIPS, user.subject)]
    items, total, links = paginate_list(held, page, request)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset, links=links)


@router.delete("/cards/{id_token}", status_code=204, summary="Withdraw a card")
async def remove_card(
    id_token: str,
    user: AppUser,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    def record() -> list[str]:
        changed = cards.remove(
            session,
            MEMBERSHIPS,
            caller_id=user.subject,
            value=id_token,
            audit=audit.record,
            actor=actor,
        )
        session.commit()
        return changed

    changed = await run_in_threadpool(record)
    await platform.station_sync.push_many(changed)
    return Response(status_code=204)
