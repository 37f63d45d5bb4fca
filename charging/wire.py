"""Commands and their results as JSON, for carrying them between processes.

The API process and the edge node holding a station may be different processes: a command
crosses between them as ``{"command": "Reset", "fields": {...}}``. Decoding is driven by the
dataclasses' own type hints, so every command of ``charging.commands`` round-trips without a
hand-written case, and anything that is not a known command is refused.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin

from charging import commands
from charging.commands import Command, CommandResult

COMMANDS: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Command)}


class WireError(ValueError):
    """A message that is not a well-formed command or result."""


def encode_command(command: Command) -> dict[str, Any]:
    return {"command": type(command).__name__, "fields": _encode(command)}


def decode_command(message: Any) -> Command:
    if not isinstance(message, dict) or not isinstance(message.get("fields"), dict):
        raise WireError("a command is an object with 'command' and 'fields'")
    cls = COMMANDS.get(message.get("command"))  # type: ignore[arg-type]
    if cls is None:
        raise WireError(f"unknown command {str(message.get('command'))[:50]!r}")
    value: Command = _decode(cls, message["fields"])
    return value


def encode_result(result: CommandResult) -> dict[str, Any]:
    return {"status": result.status, "payload": result.payload, "values": result.values}


def decode_result(message: Any) -> CommandResult:
    if not isinstance(message, dict) or not isinstance(message.get("status"), str):
        raise WireError("a result is an object with a 'status'")
    return CommandResult(
        str(message["status"]),
        dict(message.get("payload") or {}),
        dict(message.get("values") or {}),
    )


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    module = vars(sys.modules[cls.__module__])
    return typing.get_type_hints(cls, {**vars(commands), **module})


def _decode(tp: Any, raw: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if raw is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, raw)
            except (WireError, ValueError, TypeError) as exc:
                errors.append(str(exc))
        raise WireError("; ".join(errors) or "no matching type")
    if origin is tuple:
        item = get_args(tp)[0]
        if not isinstance(raw, list):
            raise WireError(f"expected a list, got {type(raw).__name__}")
        return tuple(_decode(item, v) for v in raw)
    if tp is Any:
        return raw
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(raw, dict):
            raise WireError(f"{tp.__name__} must be an object")
        hints = _hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(raw) - names
        if unknown:
            raise WireError(f"{tp.__name__} has no field {sorted(unknown)[0]!r}")
        values = {name: _decode(hints[name], value) for name, value in raw.items()}
        try:
            return tp(**values)
        except TypeError as exc:
            raise WireError(f"{tp.__name__}: {exc}") from None
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(raw)
        except ValueError as exc:
            raise WireError(str(exc)) from None
    if tp is datetime:
        if not isinstance(raw, str):
            raise WireError("a datetime is an ISO 8601 string")
        return datetime.fromisoformat(raw)
    if tp is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if tp in (int, str, bool) and type(raw) is tp:
        return raw
    raise WireError(f"expected {getattr(tp, '__name__', tp)}, got {type(raw).__name__}")
