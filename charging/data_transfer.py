"""Vendor-specific DataTransfer from stations (OCPP 1.6 4.3, 2.0.1 P02): who answers what.

A station's DataTransfer names a ``vendorId`` and, optionally, a ``messageId``. The platform (or
a later module) registers a handler per vendor, optionally per message id; the handler returns
the decision (status and data). Without a handler the answer is what the specifications
prescribe (1.6 4.3, 2.0.1 use case P02): ``UnknownVendorId`` for a vendor nobody registered
(with no data), ``UnknownMessageId`` for a message id of a known vendor that nobody handles.

    registry = DataTransferRegistry()
    registry.register("com.acme", lambda event: DataTransferDecision(ACCEPTED, "pong"), "Ping")
    registry.decide(event)  # -> DataTransferDecision

A handler that raises is the platform's failure (the station gets an InternalError), not an
answer; handlers run inside the core's worker thread and must be quick.
"""

from __future__ import annotations

from collections.abc import Callable

from charging.events import DataTransferReceived
from charging.outcomes import DataTransferDecision, DataTransferStatus

DataTransferHandler = Callable[[DataTransferReceived], DataTransferDecision]

_ANY_MESSAGE: None = None


class DataTransferRegistry:
    """Handlers by (vendor id, message id or None for every message of the vendor)."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str | None, DataTransferHandler]] = {}

    def register(
        self, vendor_id: str, handler: DataTransferHandler, message_id: str | None = _ANY_MESSAGE
    ) -> None:
        """Let ``handler`` answer ``vendor_id``'s ``message_id`` (every message id when None).

        Raises:
            ValueError: a handler is registered for that vendor and message id already.
        """
        if not vendor_id:
            raise ValueError("a vendor id is required")
        by_message = self._handlers.setdefault(vendor_id, {})
        if message_id in by_message:
            raise ValueError(f"DataTransfer {vendor_id}/{message_id} has a handler already")
        by_message[message_id] = handler

    def unregister(self, vendor_id: str, message_id: str | None = _ANY_MESSAGE) -> None:
        by_message = self._handlers.get(vendor_id, {})
        by_message.pop(message_id, None)
        if not by_message:
            self._handlers.pop(vendor_id, None)

    def decide(self, event: DataTransferReceived) -> DataTransferDecision:
        """The answer to ``event``: its handler's, or UnknownVendorId / UnknownMessageId."""
        by_message = self._handlers.get(event.vendor_id)
        if by_message is None:
            return DataTransferDecision(DataTransferStatus.UNKNOWN_VENDOR_ID)
        handler = by_message.get(event.message_id) if event.message_id is not None else None
        if handler is None:
            handler = by_message.get(_ANY_MESSAGE)
        if handler is None:
            return DataTransferDecision(DataTransferStatus.UNKNOWN_MESSAGE_ID)
        return handler(event)
