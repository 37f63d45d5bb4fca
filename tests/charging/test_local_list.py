"""The local-list planning rules (``charging.local_list.plan``), without a database.

OCPP 1.6 3.5 / 2.0.1 D01: a differential update carries only the changes since the version the
station confirmed; a full update replaces the list. A station that never confirmed a version,
or whose version diverged, gets a full one.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from charging.commands import LocalListEntry, SendLocalList, UpdateType
from charging.events import IdToken, IdTokenType
from charging.local_list import ACCEPTED, Change, plan


def added(version: int, value: str, token_type: str = "ISO14443") -> Change:
    return Change(version, value, token_type, added=True)


def removed(version: int, value: str, token_type: str = "ISO14443") -> Change:
    return Change(version, value, token_type, added=False)


def entry(value: str, status: str | None = ACCEPTED) -> LocalListEntry:
    return LocalListEntry(IdToken(value, IdTokenType.ISO14443), status=status)


def test_an_empty_list_never_confirmed_needs_nothing() -> None:
    assert plan(0, None, [], []) is None


def test_a_station_that_confirmed_the_current_version_needs_nothing() -> None:
    changes = [added(1, "A"), added(2, "B")]
    assert plan(2, 2, changes, [("A", "ISO14443"), ("B", "ISO14443")]) is None


def test_a_station_that_never_confirmed_a_version_gets_the_full_list_sorted() -> None:
    update = plan(3, None, [added(1, "B"), added(2, "A")], [("B", "ISO14443"), ("A", "ISO14443")])
    assert update == SendLocalList(
        version=3, update=UpdateType.FULL, entries=(entry("A"), entry("B"))
    )


def test_the_changes_since_the_confirmed_version_go_as_a_differential_update() -> None:
    changes = [added(1, "A"), added(2, "B"), added(3, "C"), removed(4, "A")]
    update = plan(4, 2, changes, [("B", "ISO14443"), ("C", "ISO14443")])
    assert update == SendLocalList(
        version=4,
        update=UpdateType.DIFFERENTIAL,
        entries=(entry("A", status=None), entry("C")),
    )


def test_a_removal_carries_no_authorization_status() -> None:
    update = plan(2, 1, [added(1, "A"), removed(2, "A")], [])
    assert update is not None and update.update is UpdateType.DIFFERENTIAL
    assert update.entries == (entry("A", status=None),)


def test_only_the_last_change_of_a_card_counts() -> None:
    changes = [removed(2, "A"), added(3, "A"), removed(4, "A"), added(5, "A")]
    update = plan(5, 1, changes, [("A", "ISO14443")])
    assert update is not None and update.entries == (entry("A"),)


def test_a_gap_in_the_recorded_changes_forces_a_full_update() -> None:
    update = plan(4, 1, [added(2, "B"), added(4, "D")], [("B", "ISO14443"), ("D", "ISO14443")])
    assert update is not None and update.update is UpdateType.FULL
    assert update.entries == (entry("B"), entry("D"))


def test_a_station_ahead_of_the_platform_has_diverged_and_gets_a_full_update() -> None:
    update = plan(3, 7, [added(1, "A")], [("A", "ISO14443")])
    assert update == SendLocalList(version=3, update=UpdateType.FULL, entries=(entry("A"),))


def test_a_full_update_of_an_emptied_list_clears_the_station() -> None:
    update = plan(2, None, [added(1, "A"), removed(2, "A")], [])
    assert update == SendLocalList(version=2, update=UpdateType.FULL, entries=())


def test_changes_at_or_before_the_confirmed_version_are_not_sent_again() -> None:
    update = plan(3, 2, [added(1, "A"), added(2, "B"), added(3, "C")], [])
    assert update is not None and [e.id_token.value for e in update.entries] == ["C"]


def test_an_unknown_token_type_falls_back_to_a_plain_id_tag() -> None:
    update = plan(1, None, [], [("A", "NotAType")])
    assert update is not None
    assert update.entries == (LocalListEntry(IdToken("A", IdTokenType.ID_TAG), status=ACCEPTED),)


# A history of card changes: (card, added?) in list-version order, versions 1..n.
histories = st.lists(st.tuples(st.sampled_from("ABCDE"), st.booleans()), max_size=12)


def replay(history: list[tuple[str, bool]], upto: int) -> set[str]:
    """The cards on the list after the first ``upto`` changes."""
    cards: set[str] = set()
    for value, is_added in history[:upto]:
        (cards.add if is_added else cards.discard)(value)
    return cards


def apply(station: set[str], update: SendLocalList) -> set[str]:
    """What a station holds after ``update`` (OCPP 1.6 3.5: full replaces, differential edits)."""
    result = set() if update.update is UpdateType.FULL else set(station)
    for item in update.entries:
        if item.status is None:
            result.discard(item.id_token.value)
        else:
            result.add(item.id_token.value)
    return result


@given(history=histories, data=st.data())
def test_any_planned_update_brings_the_station_to_the_current_list(
    history: list[tuple[str, bool]], data: st.DataObject
) -> None:
    version = len(history)
    synced = data.draw(st.one_of(st.none(), st.integers(0, version + 3)), label="synced")
    changes = [
        Change(n, value, "ISO14443", is_added) for n, (value, is_added) in enumerate(history, 1)
    ]
    current = replay(history, version)
    update = plan(version, synced, changes, [(v, "ISO14443") for v in current])
    if version == 0 or synced == version:
        assert update is None
        return
    assert update is not None and update.version == version
    station = replay(history, synced) if synced is not None and synced <= version else {"STALE"}
    assert apply(station, update) == current
    differential = synced is not None and synced < version
    assert (update.update is UpdateType.DIFFERENTIAL) == differential
    values = [item.id_token.value for item in update.entries]
    assert values == sorted(set(values))


@given(history=histories.filter(lambda h: len(h) >= 2), data=st.data())
def test_a_lost_change_record_never_yields_a_differential_update(
    history: list[tuple[str, bool]], data: st.DataObject
) -> None:
    version = len(history)
    lost = data.draw(st.integers(1, version), label="lost")
    changes = [
        Change(n, value, "ISO14443", is_added)
        for n, (value, is_added) in enumerate(history, 1)
        if n != lost
    ]
    update = plan(version, 0, changes, [(v, "ISO14443") for v in replay(history, version)])
    assert update is not None and update.update is UpdateType.FULL
    assert apply({"STALE"}, update) == replay(history, version)
