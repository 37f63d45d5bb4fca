"""Lists in pages: lenient query parsing (a hostile ``offset`` shows page one) and pager links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request

T = TypeVar("T")

PAGE_SIZE = 50
MAX_OFFSET = 10_000_000


def int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter clamped to [low, high]; anything unparsable is ``default``."""
    raw = request.query_params.get(name, "")
    if not raw.isdigit() or len(raw) > 9:
        return default
    return max(low, min(high, int(raw)))


def text_param(request: Request, name: str, *, max_length: int = 200) -> str:
    """A search or filter value: stripped, cut to ``max_length``."""
    return request.query_params.get(name, "").strip()[:max_length]


@dataclass(frozen=True, slots=True)
class Window:
    offset: int
    limit: int


def window(request: Request, *, limit: int = PAGE_SIZE) -> Window:
    return Window(int_param(request, "offset", 0, low=0, high=MAX_OFFSET), limit)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``total`` is None where counting would cost more than the page."""

    items: Sequence[T]
    window: Window
    total: int | None
    path: str
    query: tuple[tuple[str, str], ...] = ()
    more: bool = False

    @property
    def first(self) -> int:
        return self.window.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.window.offset + len(self.items)

    def _url(self, offset: int) -> str:
        params = [(k, v) for k, v in self.query if k != "offset" and v]
        if offset:
            params.append(("offset", str(offset)))
        return f"{self.path}?{urlencode(params)}" if params else self.path

    @property
    def previous_url(self) -> str | None:
        if self.window.offset <= 0:
            return None
        return self._url(max(0, self.window.offset - self.window.limit))

    @property
    def next_url(self) -> str | None:
        has_more = self.more if self.total is None else self.last < self.total
        return self._url(self.window.offset + self.window.limit) if has_more else None


def page_of(
    request: Request, items: Sequence[T], win: Window, *, total: int | None, more: bool = False
) -> Page[T]:
    """A page of ``items`` fetched with ``win``; with ``total`` None, fetch ``limit + 1`` rows
    and pass ``more`` to say whether a next page exists."""
    return Page(
        items=items[: win.limit],
        window=win,
        total=total,
        path=request.url.path,
        query=tuple(request.query_params.multi_items()),
        more=more or (total is None and len(items) > win.limit),
    )
