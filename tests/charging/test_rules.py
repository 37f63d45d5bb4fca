"""Authorization decisions and the resend rules, with a fixed clock."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

from charging.authorization import TokenRecord, authorize
from charging.events import IdToken, IdTokenType, TransactionStarted
from charging.idempotency import is_resent, start_key
from charging.outcomes import AuthorizationDecision, AuthorizationStatus
from tests.charging.conftest import T0, at

Status = AuthorizationStatus


def test_an_unknown_token_is_invalid() -> None:
    assert authorize(None, now=T0) == AuthorizationDecision(Status.INVALID)


def test_a_blocked_token_is_blocked_even_before_it_expires() -> None:
    record = TokenRecord("04A1", Status.BLOCKED, expires_at=at(60))
    assert authorize(record, now=T0) == AuthorizationDecision(Status.BLOCKED)


def test_an_accepted_token_past_its_expiry_is_expired() -> None:
    record = TokenRecord("04A1", Status.ACCEPTED, expires_at=T0)
    assert authorize(record, now=T0) == AuthorizationDecision(Status.EXPIRED)


def test_an_accepted_token_carries_its_expiry_and_group() -> None:
    record = TokenRecord("04A1", Status.ACCEPTED, expires_at=at(60), group="FLEET-7")
    assert authorize(record, now=T0) == AuthorizationDecision(
        Status.ACCEPTED, at(60), IdToken("FLEET-7", IdTokenType.ID_TAG)
    )


def test_a_token_recorded_as_expired_or_invalid_keeps_that_status() -> None:
    assert authorize(TokenRecord("a", Status.EXPIRED), now=T0).status is Status.EXPIRED
    assert authorize(TokenRecord("a", Status.INVALID), now=T0).status is Status.INVALID


def test_a_seq_no_at_or_below_the_last_seen_is_a_resend() -> None:
    assert is_resent(3, 3) and is_resent(3, 1)
    assert not is_resent(3, 4)
    assert not is_resent(None, 0) and not is_resent(2, None)


START = TransactionStarted("CP-1", None, 1, 1, IdToken("04A1"), T0, meter_start_wh=1000.0)


def test_a_resent_start_transaction_has_the_same_fingerprint_in_any_time_zone() -> None:
    shifted = dataclasses.replace(START, timestamp=T0.astimezone(timezone(timedelta(hours=2))))
    assert start_key(shifted) == start_key(START)
    assert len(start_key(START)) == 64


def test_any_other_field_changes_the_fingerprint() -> None:
    others = [
        dataclasses.replace(START, evse_id=2),
        dataclasses.replace(START, id_token=IdToken("04A2")),
        dataclasses.replace(START, timestamp=at(1)),
        dataclasses.replace(START, meter_start_wh=1001.0),
        dataclasses.replace(START, station_id="CP-2"),
    ]
    assert len({start_key(e) for e in [START, *others]}) == 6
