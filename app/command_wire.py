"""Commands and their results as JSON, for carrying them between processes.

The API process and the edge node holding a station may be different processes: a command
crosses between them as ``{"command": "Reset", "fields": {...}}``. The fields are encoded and
decoded by pydantic ``TypeAdapter`` s built from the dataclasses of ``charging.commands``
(strict JSON validation, unknown fields refused), so every command round-trips without a
hand-written case, and anything that is not a known command is refused with a reason.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from charging.commands import Command, CommandResult

COMMANDS: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Command)}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(cls) for name, cls in COMMANDS.items()}

_KINDS = {"int_type": "int", "string_type": "str", "bool_type": "bool", "float_type": "float"}


class WireError(ValueError):
    """A message that is not a well-formed command or result."""


def encode_command(command: Command) -> dict[str, Any]:
    fields: dict[str, Any] = _ADAPTERS[type(command).__name__].dump_python(command, mode="json")
    return {"command": type(command).__name__, "fields": fields}


def decode_command(message: Any) -> Command:
    if not isinstance(message, dict) or not isinstance(message.get("fields"), dict):
        raise WireError("a command is an object with 'command' and 'fields'")
    cls = COMMANDS.get(message.get("command"))  # type: ignore[arg-type]
    if cls is None:
        raise WireError(f"unknown command {str(message.get('command'))[:50]!r}")
    try:
        value: Command = _ADAPTERS[cls.__name__].validate_json(
            json.dumps(message["fields"]), strict=True, extra="forbid"
        )
    except ValidationError as exc:
        raise WireError(_reason(cls, exc.errors()[0])) from None
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


def _reason(cls: type[Any], error: ErrorDetails) -> str:
    """Pydantic's first error, said in the wire's own words (which field, which type)."""
    loc = tuple(error["loc"])
    kind, raw = error["type"], error.get("input")
    owner = _type_at(cls, loc[:-1])
    name = getattr(owner, "__name__", cls.__name__)
    if kind == "unexpected_keyword_argument":
        return f"{name} has no field {loc[-1]!r}"
    if kind in ("missing", "missing_argument"):
        return f"{name}: missing field {loc[-1]!r}"
    target = _type_at(cls, loc)
    if kind == "enum" and isinstance(target, type) and issubclass(target, Enum):
        return f"{raw!r} is not a valid {target.__name__}"
    if kind.startswith("datetime"):
        return "a datetime is an ISO 8601 string"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {type(raw).__name__}"
    if kind in _KINDS:
        return f"expected {_KINDS[kind]}, got {type(raw).__name__}"
    return f"{'.'.join(map(str, loc)) or name}: {error['msg']}"


def _type_at(cls: type[Any], loc: tuple[int | str, ...]) -> Any:
    """The declared type at ``loc`` inside the dataclass ``cls`` (for naming it in errors)."""
    tp: Any = cls
    for part in loc:
        tp = _unwrap_optional(tp)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            tp = typing.get_type_hints(tp).get(str(part), Any)
        elif get_origin(tp) is tuple:
            tp = get_args(tp)[0]
        else:
            return Any
    return _unwrap_optional(tp)


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        options = [option for option in get_args(tp) if option is not type(None)]
        return options[0] if len(options) == 1 else tp
    return tp
