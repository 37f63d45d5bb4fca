"""Reading the audit log: one query for the REST list and the dashboard, and which actions
are security events.

Filters are on the indexed columns (``actor``, ``action``, ``object_id``, ``at``) except
``outcome``; the list is newest first by id, so a page is an index walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.audit import AuditEntry

SECURITY_ACTIONS: dict[str, bool] = {
    # action: critical
    "pki.certificate_revoked": True,
    "pki.client_certificate_refused": True,
    "pki.certificate_refused": False,
    "pki.certificate_issued": False,
    "pki.certificate_not_installed": False,
    "pki.station_certificate_deleted": False,
    "pki.root_installed": False,
    "pki.initialized": False,
    "refresh_token.reuse": True,
    "policy.allow_downgrade": True,
    "login.failure": False,
    "login.refused": True,
    "dashboard.login": False,
    "station.refused": False,
    "station.connect_refused": False,
    "station.security_profile_raised": False,
    "station.password_issued": False,
    "user.password_reset": False,
    "device.pair_failed": False,
    "firmware.signing_key_created": False,
    "firmware.family_signing_set": False,
}
"""The platform's security-relevant audit actions, and whether each is critical (as OCPP's
security events are: one an operator is alerted to)."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for; every field given narrows the list."""

    actor: str | None = None
    action: str | None = None
    """One action, or every action starting with it when it ends in ``*`` (``pki.*``)."""
    object_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    actions: tuple[str, ...] | None = None
    """Only these actions (the security events' view)."""


def audit_query(wanted: AuditFilter) -> SelectOfScalar[AuditEntry]:
    """Audit entries matching ``wanted``, newest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc())
    if wanted.action:
        if wanted.action.endswith("*"):
            prefix = wanted.action.rstrip("*")
            query = query.where(col(AuditEntry.action).startswith(prefix, autoescape=True))
        else:
            query = query.where(AuditEntry.action == wanted.action)
    if wanted.actions is not None:
        query = query.where(col(AuditEntry.action).in_(wanted.actions))
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.object_id:
        query = query.where(AuditEntry.object_id == wanted.object_id)
    if wanted.outcome:
        query = query.where(AuditEntry.outcome == wanted.outcome)
    if wanted.since is not None:
        query = query.where(col(AuditEntry.at) >= wanted.since)
    if wanted.until is not None:
        query = query.where(col(AuditEntry.at) < wanted.until)
    return query
