"""``/audit`` (the audit log) and ``/security-events`` (what stations and the platform report as
security relevant), filtered and paginated, newest first.

Both read through the queries the REST API uses (``app.audit_search``,
``charging.security_events``). Neither counts its matches: a page is one index walk of
``limit + 1`` rows, whatever the size of the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from app.audit import AuditEntry
from app.audit_search import SECURITY_ACTIONS, AuditFilter, audit_query
from app.dashboard.auth import ReadView
from app.dashboard.paging import page_of, text_param, window
from app.dashboard.render import render
from app.deps import PlatformDep
from charging.security_events import (
    KNOWN_TYPES,
    SecurityEventFilter,
    Severity,
    security_event_query,
    severity_of,
)
from charging.tables import SecurityEventRow

router = APIRouter(include_in_schema=False)

OUTCOMES = [("", "any"), ("success", "success"), ("failure", "failure")]
SEVERITIES = [("", "any")] + [(s.value, s.value) for s in Severity]
SOURCES = [("stations", "stations (SecurityEventNotification)"), ("platform", "platform (audit)")]
DETAIL_SHOWN = 2000
"""Characters of an entry's detail shown in the list; the rest is cut (marked with …)."""


def parse_when(text: str, *, end: bool) -> datetime:
    """``YYYY-MM-DD`` (the whole day: ``end`` moves to the next midnight) or an ISO 8601
    date-time; without a zone, UTC. Raises ValueError."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime.combine(day, time(), tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    row: AuditEntry
    detail: str

    @classmethod
    def of(cls, row: AuditEntry) -> Entry:
        try:
            parsed: Any = json.loads(row.detail)
            text = json.dumps(parsed, indent=1, sort_keys=True, ensure_ascii=False)
        except ValueError:
            text = row.detail
        if len(text) > DETAIL_SHOWN:
            text = text[:DETAIL_SHOWN] + "…"
        return cls(row, "" if text == "{}" else text)

    @property
    def critical(self) -> bool:
        return SECURITY_ACTIONS.get(self.row.action, False)


def _dates(request: Request, errors: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    found: list[datetime | None] = []
    for name, end in (("from", False), ("to", True)):
        raw = text_param(request, name, max_length=40)
        try:
            found.append(parse_when(raw, end=end) if raw else None)
        except ValueError:
            errors[name] = "Give a date (2026-01-31) or a date and time (2026-01-31T08:00)."
            found.append(None)
    return found[0], found[1]


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, viewer: ReadView, platform: PlatformDep) -> Response:
    errors: dict[str, str] = {}
    values = {
        name: text_param(request, name, max_length=200) for name in ("actor", "action", "object")
    }
    outcome = text_param(request, "outcome", max_length=20)
    outcome = outcome if outcome in ("success", "failure") else ""
    since, until = _dates(request, errors)
    wanted = AuditFilter(
        actor=values["actor"] or None,
        action=values["action"] or None,
        object_id=values["object"] or None,
        outcome=outcome or None,
        since=since,
        until=until,
    )
    win = window(request)
    with Session(platform.engine) as session:
        rows = session.exec(audit_query(wanted).offset(win.offset).limit(win.limit + 1)).all()
    page = page_of(request, [Entry.of(row) for row in rows], win, total=None)
    return render(
        request,
        "audit/log.html",
        viewer,
        status=422 if errors else 200,
        title="Audit log",
        page=page,
        errors=errors,
        outcome=outcome,
        outcomes=OUTCOMES,
        date_from=text_param(request, "from", max_length=40),
        date_to=text_param(request, "to", max_length=40),
        actor=values["actor"],
        action=values["action"],
        object=values["object"],
    )


@dataclass(frozen=True, slots=True)
class StationEvent:
    row: SecurityEventRow
    severity: Severity


def _severity(request: Request) -> Severity | None:
    text = text_param(request, "severity", max_length=20)
    return Severity(text) if text in Severity.__members__.values() else None


@router.get("/security-events", response_class=HTMLResponse)
def security_events(request: Request, viewer: ReadView, platform: PlatformDep) -> Response:
    source = (
        "platform" if text_param(request, "source", max_length=20) == "platform" else "stations"
    )
    station = text_param(request, "station", max_length=48)
    kind = text_param(request, "type", max_length=100)
    severity = _severity(request)
    win = window(request)
    items: list[Any]
    with Session(platform.engine) as session:
        if source == "stations":
            wanted = SecurityEventFilter(
                station_id=station or None, type=kind or None, severity=severity
            )
            events = security_event_query(wanted).offset(win.offset).limit(win.limit + 1)
            items = [StationEvent(row, severity_of(row.type)) for row in session.exec(events)]
        else:
            query = _platform_query(station, kind, severity).offset(win.offset)
            items = [Entry.of(row) for row in session.exec(query.limit(win.limit + 1))]
    page = page_of(request, items, win, total=None)
    return render(
        request,
        "audit/security_events.html",
        viewer,
        title="Security events",
        page=page,
        source=source,
        sources=SOURCES,
        station=station,
        type=kind,
        severity=severity.value if severity else "",
        severities=SEVERITIES,
        types=KNOWN_TYPES if source == "stations" else tuple(SECURITY_ACTIONS),
    )


def _platform_query(
    station: str, kind: str, severity: Severity | None
) -> SelectOfScalar[AuditEntry]:
    """The platform's security-relevant audit entries: by action, about one station (its id
    as the object or the actor ``station:<id>``) and by criticality."""
    if severity is Severity.CRITICAL:
        actions = tuple(action for action, critical in SECURITY_ACTIONS.items() if critical)
    elif severity is Severity.INFO:
        actions = tuple(action for action, critical in SECURITY_ACTIONS.items() if not critical)
    else:
        actions = tuple(SECURITY_ACTIONS)
    if kind:
        actions = tuple(action for action in actions if action == kind)
    query = audit_query(AuditFilter(actions=actions))
    if station:
        query = query.where(
            (col(AuditEntry.object_id) == station) | (col(AuditEntry.actor) == f"station:{station}")
        )
    return query
