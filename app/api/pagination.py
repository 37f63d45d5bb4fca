"""Offset pagination with ``_links``, shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.api.bounds import NonNegativeInt32

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


class PageParams(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    offset: NonNegativeInt32 = 0


PageQuery = Annotated[PageParams, Query()]


def paginate(
    session: Session, query: SelectOfScalar[Any], params: PageParams, request: Request
) -> tuple[list[Any], int, dict[str, dict[str, str]]]:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.offset(params.offset).limit(params.limit)).all())
    return rows, total, page_links(request, params, total)


def paginate_list(
    items: Sequence[T], params: PageParams, request: Request
) -> tuple[list[T], int, dict[str, dict[str, str]]]:
    """The page of an already loaded list (a service that answers with a list, not a query)."""
    rows = list(items[params.offset : params.offset + params.limit])
    return rows, len(items), page_links(request, params, len(items))


def page_links(request: Request, params: PageParams, total: int) -> dict[str, dict[str, str]]:
    """``self``, and ``next`` / ``prev`` where there is such a page."""
    links = {"self": {"href": str(request.url)}}
    if params.offset + params.limit < total:
        nxt = request.url.include_query_params(offset=params.offset + params.limit)
        links["next"] = {"href": str(nxt)}
    if params.offset > 0:
        prev = request.url.include_query_params(offset=max(0, params.offset - params.limit))
        links["prev"] = {"href": str(prev)}
    return links
