"""Local authorization lists per station (OCPP 1.6 3.5 / 2.0.1 D01, D02).

The platform numbers each station's list: every card granted or withdrawn on a station bumps
its ``version`` and records the change. :func:`plan` (pure) decides what to send: nothing when
the station confirmed the current version, a differential update carrying the changes since
the confirmed version, or a full update when the station never confirmed one or its versions
diverged (the caller then forgets ``synced_version``). Both OCPP versions' adapters translate
the ``SendLocalList`` command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from charging.commands import LocalListEntry, SendLocalList, UpdateType
from charging.events import IdToken, IdTokenType
from charging.tables import CardGrant, IdTokenRow, LocalListChange, LocalListState

ACCEPTED = "Accepted"


@dataclass(frozen=True, slots=True)
class Change:
    """A card added to (``added``) or removed from a station's list at ``version``."""

    version: int
    value: str
    token_type: str
    added: bool


def _token(value: str, token_type: str) -> IdToken:
    try:
        return IdToken(value, IdTokenType(token_type))
    except ValueError:
        return IdToken(value)


def plan(
    version: int,
    synced_version: int | None,
    changes: Iterable[Change],
    entries: Iterable[tuple[str, str]],
) -> SendLocalList | None:
    """The update that brings a station from ``synced_version`` to ``version``.

    ``changes`` are the recorded changes, ``entries`` the current ``(value, type)`` pairs.
    """
    if version == 0 or synced_version == version:
        return None
    pending = sorted(
        (c for c in changes if synced_version is not None and c.version > synced_version),
        key=lambda c: c.version,
    )
    complete = synced_version is not None and {c.version for c in pending} == set(
        range(synced_version + 1, version + 1)
    )
    if synced_version is None or synced_version > version or not complete:
        full = tuple(
            LocalListEntry(_token(value, token_type), status=ACCEPTED)
            for value, token_type in sorted(entries)
        )
        return SendLocalList(version=version, update=UpdateType.FULL, entries=full)
    last: dict[str, Change] = {}
    for change in pending:
        last[change.value] = change
    diff = tuple(
        LocalListEntry(_token(c.value, c.token_type), status=ACCEPTED if c.added else None)
        for c in sorted(last.values(), key=lambda c: c.value)
    )
    return SendLocalList(version=version, update=UpdateType.DIFFERENTIAL, entries=diff)


def _state(session: Session, serial: str) -> LocalListState:
    state = session.get(LocalListState, serial, with_for_update=True)
    if state is None:
        state = LocalListState(station_serial=serial)
        session.add(state)
        session.flush()
    return state


def record_change(
    session: Session, serial: str, value: str, token_type: str, *, added: bool
) -> int:
    """Bump the station's list version for one card; the new version."""
    state = _state(session, serial)
    state.version += 1
    session.add(state)
    session.add(
        LocalListChange(
            station_serial=serial,
            version=state.version,
            id_token=value,
            token_type=token_type,
            added=added,
        )
    )
    return state.version


def entries(session: Session, serial: str) -> Sequence[tuple[str, str]]:
    """The cards currently granted on the station, as ``(value, type)``."""
    rows = session.exec(
        select(IdTokenRow.value, IdTokenRow.type)
        .join(CardGrant, col(CardGrant.id_token) == col(IdTokenRow.value))
        .where(CardGrant.station_serial == serial, IdTokenRow.status == ACCEPTED)
    ).all()
    return [(value, token_type) for value, token_type in rows]


def pending_update(session: Session, serial: str) -> SendLocalList | None:
    state = session.get(LocalListState, serial)
    if state is None:
        return None
    changes = session.exec(
        select(LocalListChange).where(
            LocalListChange.station_serial == serial,
            col(LocalListChange.version) > (state.synced_version or 0),
        )
    ).all()
    return plan(
        state.version,
        state.synced_version,
        (Change(c.version, c.id_token, c.token_type, c.added) for c in changes),
        entries(session, serial),
    )


def confirm(session: Session, serial: str, version: int, *, accepted: bool) -> None:
    """Record the station's answer to the update of ``version``; a refusal forces a full one."""
    state = _state(session, serial)
    state.synced_version = version if accepted else None
    session.add(state)


def forget(session: Session, serial: str, station_version: int | None) -> None:
    """The station reported ``station_version`` (GetLocalListVersion); diverging -> full next."""
    state = session.get(LocalListState, serial, with_for_update=True)
    if state is not None and state.synced_version != station_version:
        state.synced_version = None
        session.add(state)
