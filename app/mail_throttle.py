"""How many unasked-for mails (sign-up, verification, password reset) the platform sends.

Anyone can make the platform mail anyone, so each mail takes one count per recipient and one per
client address, atomically in the database (:class:`app.identity.ratelimit.Counters`). A mail
over either limit is silently not sent: the answer stays the same, so it tells nothing about
whether an account exists or a limit was hit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from app.identity.ratelimit import Counters

WINDOW = timedelta(hours=1)
PER_RECIPIENT = 5
PER_ADDRESS = 20


def may_send(engine: Engine, *, recipient: str, address: str, now: datetime) -> bool:
    """Take one mail for ``recipient`` asked from ``address``; False when over a limit."""
    counters = Counters(WINDOW)
    to_key = f"mail:to:{recipient.strip().lower()}"
    with engine.begin() as conn:
        if counters.take(conn, to_key, limit=PER_RECIPIENT, now=now) is None:
            return False
        if counters.take(conn, f"mail:from:{address}", limit=PER_ADDRESS, now=now) is None:
            counters.forgive(conn, to_key, 1)
            return False
    return True
