"""Recognising resent station messages (pure rules).

Stations resend a message whose answer they did not get, and deliver messages queued while
offline later, in the order they were made (OCPP 2.0.1 E04 and the 1.6 "transaction-related
messages" rules). Hence:

- a 2.0.1 TransactionEvent whose ``seq_no`` is at or below the last one seen for that
  transaction is a resend and changes nothing;
- a 1.6 StartTransaction is known by its fingerprint (connector, idTag, timestamp, meterStart):
  the same fingerprint yields the same transaction and id;
- an Updated or Ended event for an unknown transaction creates it rather than losing data.
"""

from __future__ import annotations

import hashlib
from datetime import UTC

from charging.events import TransactionStarted


def is_resent(last_seq_no: int | None, seq_no: int | None) -> bool:
    """True when ``seq_no`` was already seen (``None`` on either side: cannot tell, not resent)."""
    return last_seq_no is not None and seq_no is not None and seq_no <= last_seq_no


def start_key(event: TransactionStarted) -> str:
    """The fingerprint of a StartTransaction, as 64 hex digits, stable across resends."""
    token = event.id_token.value if event.id_token else ""
    parts = (
        event.station_id,
        str(event.evse_id),
        str(event.connector_id),
        token,
        event.timestamp.astimezone(UTC).isoformat(),
        repr(event.meter_start_wh),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
