"""Errors of the OCPP gateway.

OcppEdgeError
 +-- FrameError        bad input from a station, answered with a CALLERROR
 +-- UnsupportedError  a command the station's OCPP version cannot express
 +-- BusyError         a CALL is already outstanding towards the station
 +-- InvalidReplyError the platform's own reply or call failed schema validation
"""

from __future__ import annotations


class OcppEdgeError(Exception):
    """Root of the gateway's errors."""


class FrameError(OcppEdgeError):
    """A frame that must be answered with a CALLERROR ``code`` (OCPP-J 4.2.3).

    ``message_id`` is None when the frame's id could not be read; the CALLERROR then carries
    ``"-1"`` (OCPP 2.0.1 Part 4, 4.2.3). ``message_type`` is the frame's MessageTypeId when it
    could be read: a broken CALLRESULT or CALLERROR is never answered with a CALLERROR.
    """

    def __init__(
        self,
        code: str,
        description: str,
        message_id: str | None = None,
        message_type: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.message_id = message_id
        self.message_type = message_type


class UnsupportedError(OcppEdgeError):
    """The command cannot be expressed in this OCPP version."""

    def __init__(self, version: str, what: str) -> None:
        super().__init__(f"OCPP {version} cannot express {what}")
        self.version = version
        self.what = what


class BusyError(OcppEdgeError):
    """OCPP-J allows one outstanding CALL per direction; wait for ``pending`` to complete."""

    def __init__(self, pending: str) -> None:
        super().__init__(f"a CALL is outstanding (message id {pending})")
        self.pending = pending


class InvalidReplyError(OcppEdgeError):
    """A payload the platform built does not match the OCPP schema (a bug on our side)."""
