"""The DataTransfer registry: per-spec answers without a handler, handlers by vendor/message."""

from __future__ import annotations

import pytest

from charging.data_transfer import DataTransferRegistry
from charging.events import DataTransferReceived
from charging.outcomes import DataTransferDecision, DataTransferStatus

ACCEPTED = DataTransferDecision(DataTransferStatus.ACCEPTED, "any")
PING = DataTransferDecision(DataTransferStatus.ACCEPTED, "pong")


def _event(vendor: str, message: str | None = None) -> DataTransferReceived:
    return DataTransferReceived("CP-1", vendor, message)


def test_without_handlers_every_vendor_is_unknown() -> None:
    registry = DataTransferRegistry()
    assert registry.decide(_event("com.acme", "Ping")) == DataTransferDecision(
        DataTransferStatus.UNKNOWN_VENDOR_ID
    )


def test_a_message_handler_wins_over_the_vendor_handler() -> None:
    registry = DataTransferRegistry()
    registry.register("com.acme", lambda e: PING, "Ping")
    assert registry.decide(_event("com.acme", "Ping")) == PING
    assert registry.decide(_event("com.acme", "Pong")).status is (
        DataTransferStatus.UNKNOWN_MESSAGE_ID
    )
    assert registry.decide(_event("com.acme")).status is DataTransferStatus.UNKNOWN_MESSAGE_ID
    registry.register("com.acme", lambda e: ACCEPTED)
    assert registry.decide(_event("com.acme", "Ping")) == PING
    assert registry.decide(_event("com.acme", "Pong")) == ACCEPTED
    assert registry.decide(_event("COM.ACME", "Ping")).status is (
        DataTransferStatus.UNKNOWN_VENDOR_ID
    )


def test_a_second_handler_for_the_same_message_is_refused_and_unregister_frees_it() -> None:
    registry = DataTransferRegistry()
    registry.register("com.acme", lambda e: PING, "Ping")
    with pytest.raises(ValueError, match="has a handler already"):
        registry.register("com.acme", lambda e: ACCEPTED, "Ping")
    registry.unregister("com.acme", "Ping")
    assert registry.decide(_event("com.acme", "Ping")).status is (
        DataTransferStatus.UNKNOWN_VENDOR_ID
    )
