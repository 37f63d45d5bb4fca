"""OCPP-J RPC frames: parse text into a frame, encode frames into text.

OCPP-J 1.6 section 4 and 2.0.1 Part 4 section 4: ``[2, id, action, payload]`` (CALL),
``[3, id, payload]`` (CALLRESULT), ``[4, id, code, description, details]`` (CALLERROR);
OCPP 2.1 Part 4 adds ``[5, id, code, description, details]`` (CALLRESULTERROR, the answer to an
invalid CALLRESULT) and ``[6, id, action, payload]`` (SEND, an unconfirmed message).

Each version names its error codes differently (1.6 writes ``FormationViolation`` and the
misspelt ``OccurenceConstraintViolation``); a ``Dialect`` holds one version's names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ocpp_edge.errors import FrameError

CALL = 2
CALLRESULT = 3
CALLERROR = 4
CALLRESULTERROR = 5
SEND = 6

MAX_ID_LENGTH = 36
MAX_DESCRIPTION_LENGTH = 255
UNREADABLE_ID = "-1"


@dataclass(frozen=True, slots=True)
class Dialect:
    """One version's error-code names and message types."""

    version: str
    formation: str
    occurrence: str
    rpc_framework: str
    message_type_not_supported: str
    message_types: frozenset[int]
    type_constraint: str = "TypeConstraintViolation"
    property_constraint: str = "PropertyConstraintViolation"
    not_implemented: str = "NotImplemented"
    not_supported: str = "NotSupported"
    internal: str = "InternalError"
    generic: str = "GenericError"


# OCPP-J 1.6 4.2.3 has no RpcFrameworkError nor MessageTypeNotSupported: a frame that is not a
# valid RPC message is "syntactically incorrect", i.e. FormationViolation.
V16 = Dialect(
    version="1.6",
    formation="FormationViolation",
    occurrence="OccurenceConstraintViolation",
    rpc_framework="FormationViolation",
    message_type_not_supported="FormationViolation",
    message_types=frozenset({CALL, CALLRESULT, CALLERROR}),
)
V201 = Dialect(
    version="2.0.1",
    formation="FormatViolation",
    occurrence="OccurrenceConstraintViolation",
    rpc_framework="RpcFrameworkError",
    message_type_not_supported="MessageTypeNotSupported",
    message_types=frozenset({CALL, CALLRESULT, CALLERROR}),
)
V21 = Dialect(
    version="2.1",
    formation="FormatViolation",
    occurrence="OccurrenceConstraintViolation",
    rpc_framework="RpcFrameworkError",
    message_type_not_supported="MessageTypeNotSupported",
    message_types=frozenset({CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND}),
)
DIALECTS = {"1.6": V16, "2.0.1": V201, "2.1": V21}


@dataclass(frozen=True, slots=True)
class Call:
    """A request; ``unconfirmed`` marks a 2.1 SEND, which gets no answer."""

    message_id: str
    action: str
    payload: dict[str, Any]
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: Any


@dataclass(frozen=True, slots=True)
class CallError:
    """A CALLERROR, or with ``result_error`` a 2.1 CALLRESULTERROR."""

    message_id: str
    code: str
    description: str
    details: Any
    result_error: bool = False


Frame = Call | CallResult | CallError


class _NotJsonNumber(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a JSON number")


def _no_constant(name: str) -> Any:
    raise _NotJsonNumber(name)


# RFC 8259 has no NaN nor Infinity (Python's json reads them unless told not to).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _not_json_number(text: str, exc: _NotJsonNumber, dialect: Dialect) -> FrameError:
    """A frame that is JSON but for NaN/Infinity: a Formation/Format violation, answered with
    its message id where it is readable (read leniently, only for that)."""
    msg = json.loads(text)
    if type(msg) is list and msg and type(msg[0]) is int and msg[0] in dialect.message_types:
        return FrameError(dialect.formation, str(exc), _readable_id(msg), msg[0])
    return FrameError(dialect.rpc_framework, "message is not valid JSON")


def _readable_id(msg: list[Any]) -> str | None:
    if len(msg) < 2:
        return None
    message_id = msg[1]
    if type(message_id) is str and 0 < len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return None


def parse(text: str | bytes, dialect: Dialect) -> Frame:
    """Parse one WebSocket message.

    Raises:
        FrameError: not JSON, not an RPC array, unknown message type, unreadable id, or a
            payload that is not an object; ``code`` is the dialect's name for the fault.
    """
    try:
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        msg = _DECODER.decode(text)
    except _NotJsonNumber as exc:
        raise _not_json_number(str(text), exc, dialect) from None
    except (ValueError, RecursionError):
        raise FrameError(dialect.rpc_framework, "message is not valid JSON") from None
    if type(msg) is not list or not msg:
        raise FrameError(dialect.rpc_framework, "message is not a non-empty JSON array")
    type_id = msg[0]
    message_id = _readable_id(msg)
    if type(type_id) is not int:
        raise FrameError(dialect.rpc_framework, "MessageTypeId is not an integer", message_id)
    if type_id not in dialect.message_types:
        raise FrameError(
            dialect.message_type_not_supported,
            f"MessageTypeId {type_id} is not supported",
            message_id,
            type_id,
        )
    if message_id is None:
        raise FrameError(
            dialect.rpc_framework,
            f"MessageId must be a string of 1 to {MAX_ID_LENGTH} characters",
            None,
            type_id,
        )
    if type_id in (CALL, SEND):
        if len(msg) != 4:
            raise FrameError(
                dialect.rpc_framework, "CALL must have 4 elements", message_id, type_id
            )
        action, payload = msg[2], msg[3]
        if type(action) is not str:
            raise FrameError(dialect.rpc_framework, "Action is not a string", message_id, type_id)
        if type(payload) is not dict:
            raise FrameError(dialect.formation, "Payload is not a JSON object", message_id, type_id)
        return Call(message_id, action, payload, type_id == SEND)
    if type_id == CALLRESULT:
        if len(msg) != 3:
            raise FrameError(
                dialect.rpc_framework, "CALLRESULT must have 3 elements", message_id, type_id
            )
        return CallResult(message_id, msg[2])
    if len(msg) not in (4, 5) or type(msg[2]) is not str or type(msg[3]) is not str:
        raise FrameError(
            dialect.rpc_framework,
            "CALLERROR must be [type, id, code, description, details]",
            message_id,
            type_id,
        )
    details = msg[4] if len(msg) == 5 else {}
    return CallError(message_id, msg[2], msg[3], details, type_id == CALLRESULTERROR)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# ``JSONEncoder.encode`` builds a C encoder on every call (about half its cost on a Heartbeat
# reply); build it once. Frames are fresh trees made by the adapters, never circular, so the
# circular-reference bookkeeping (``markers``) is left out.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_iterencode = (
    None
    if _make_c_encoder is None  # only without CPython's C accelerator
    else _make_c_encoder(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        False,
        False,
        True,
    )
)


def _dumps(value: Any) -> str:
    if _c_iterencode is None:  # pragma: no cover
        return _ENCODER.encode(value)
    return "".join(_c_iterencode(value, 0))


def encode_call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return _dumps([CALL, message_id, action, payload])


def encode_result(message_id: str, payload: dict[str, Any]) -> str:
    return _dumps([CALLRESULT, message_id, payload])


def encode_error(
    message_id: str | None,
    code: str,
    description: str,
    details: dict[str, Any] | None = None,
    *,
    result_error: bool = False,
) -> str:
    """A CALLERROR (or 2.1 CALLRESULTERROR); the description is cut to 255 characters."""
    return _dumps(
        [
            CALLRESULTERROR if result_error else CALLERROR,
            message_id if message_id is not None else UNREADABLE_ID,
            code,
            description[:MAX_DESCRIPTION_LENGTH],
            details if details is not None else {},
        ]
    )
