"""JSON-schema validation of OCPP payloads, with the schemas bundled in the ``ocpp`` package.

Each (version, action, request|response) schema is compiled with ``fastjsonschema`` the first time
it is needed and kept for the life of the process, so the per-message cost is one dict lookup and
one call of generated code.

A violation becomes a ``FrameError`` with the code OCPP-J 4.2.3 gives it: a wrong JSON type is a
TypeConstraintViolation; a missing field or a wrong number of items an Occurrence constraint
violation; a field the PDU does not define a Formation/Format violation; a bad value (enum, length,
pattern, range, date-time format) a PropertyConstraintViolation. The description names the field.

Every number is bounded by its data type, which the JSON schemas leave open: an ``integer`` is
"32 bit (31 bits resolution, 1 sign bit)" (OCPP 2.0.1 Part 2, 2.1.1 Primitive Datatypes; 1.6
stations and the 1.6 core keep the same range), a ``decimal``/``number`` a finite double. A value
outside its type's range "violates data type constraints", a TypeConstraintViolation (OCPP-J
1.6 4.2.3, 2.0.1 Part 4 4.3), so ``connectorId: 10**30`` is refused at the edge instead of
overflowing the database; a value inside the type's range but outside a schema's own
``minimum``/``maximum`` stays a PropertyConstraintViolation.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from ocpp_edge.errors import FrameError
from ocpp_edge.frames import Dialect

Validator = Callable[[Any], Any]

_PACKAGE_DIR = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}

_OCCURRENCE_RULES = frozenset(
    {"required", "minItems", "maxItems", "uniqueItems", "additionalItems", "minProperties"}
)
_FORMATION_RULES = frozenset({"additionalProperties", "maxProperties", "anyOf", "oneOf", "not"})

INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1
NUMBER_MAX = sys.float_info.max
_TYPE_RANGES = {"integer": (INTEGER_MIN, INTEGER_MAX), "number": (-NUMBER_MAX, NUMBER_MAX)}
_RANGE_RULES = frozenset({"minimum", "maximum"})


@cache
def _schema_files(version: str) -> dict[tuple[str, bool], str]:
    """(action, is_response) -> file name, for every schema the ``ocpp`` package ships."""
    folder = resources.files("ocpp") / _PACKAGE_DIR[version] / "schemas"
    files: dict[tuple[str, bool], str] = {}
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".json"):
            continue
        stem = name[: -len(".json")]
        if stem.endswith("Response"):
            files[(stem[: -len("Response")], True)] = name
        elif stem.endswith("Request"):
            files[(stem[: -len("Request")], False)] = name
        else:  # 1.6 names requests by action alone; 2.1 so names its SEND messages
            files[(stem, False)] = name
    return files


@cache
def _compile(version: str, action: str, response: bool) -> Validator | None:
    name = _schema_files(version).get((action, response))
    if name is None:
        return None
    path = resources.files("ocpp") / _PACKAGE_DIR[version] / "schemas" / name
    schema = bounded(json.loads(path.read_text(encoding="utf-8")))
    validator: Validator = fastjsonschema.compile(schema, use_default=False)
    return validator


def bounded(schema: Any) -> Any:
    """``schema`` with every ``integer`` and ``number`` held to its data type's range (see the
    module docstring); a schema's own tighter ``minimum``/``maximum`` is kept."""
    if isinstance(schema, list):
        return [bounded(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node = {key: bounded(value) for key, value in schema.items()}
    kind = node.get("type")
    if isinstance(kind, str) and kind in _TYPE_RANGES:
        low, high = _TYPE_RANGES[kind]
        node["minimum"] = max(node.get("minimum", low), low)
        node["maximum"] = min(node.get("maximum", high), high)
    return node


def _outside_type(value: Any, definition: Any) -> bool:
    """Whether ``value`` lies outside the range of the data type ``definition`` declares."""
    kind = definition.get("type") if isinstance(definition, dict) else None
    if kind not in _TYPE_RANGES or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    low, high = _TYPE_RANGES[kind]
    return not low <= value <= high


def actions(version: str) -> frozenset[str]:
    """Every action the version defines (those with a request schema)."""
    return frozenset(action for action, response in _schema_files(version) if not response)


def describe(action: str, exc: fastjsonschema.JsonSchemaValueException) -> str:
    """``"BootNotification: chargePointVendor must be shorter than ..."``."""
    message = str(exc.message)
    if message.startswith("data."):
        message = message[len("data.") :]
    elif message.startswith("data"):
        message = "payload" + message[len("data") :]
    return f"{action}: {message}"


def error_code(rule: str | None, dialect: Dialect) -> str:
    """The CALLERROR code of a failed JSON-schema keyword (OCPP-J 4.2.3)."""
    if rule == "type":
        return dialect.type_constraint
    if rule in _OCCURRENCE_RULES:
        return dialect.occurrence
    if rule in _FORMATION_RULES:
        return dialect.formation
    return dialect.property_constraint


def shared(dialect: Dialect) -> Schemas:
    """The one ``Schemas`` of ``dialect``'s version in this process (connections share it)."""
    return _shared(dialect)


@cache
def _shared(dialect: Dialect) -> Schemas:
    return Schemas(dialect)


class Schemas:
    """The validators of one OCPP version."""

    __slots__ = ("_cache", "_dialect", "_version")

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._version = dialect.version
        self._cache: dict[tuple[str, bool], Validator | None] = {}

    def knows(self, action: str) -> bool:
        """Whether the version defines ``action``."""
        return (action, False) in _schema_files(self._version)

    def validator(self, action: str, response: bool) -> Validator | None:
        key = (action, response)
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = _compile(self._version, action, response)
            return found

    def validate(
        self, action: str, payload: Any, *, response: bool, message_id: str | None = None
    ) -> None:
        """Check ``payload`` against the action's request (or response) schema.

        Raises:
            FrameError: the violation, coded as above; NotImplemented for an unknown action.
        """
        check = self.validator(action, response)
        if check is None:
            raise FrameError(
                self._dialect.not_implemented, f"unknown action {action[:64]!r}", message_id
            )
        try:
            check(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            code = error_code(exc.rule, self._dialect)
            if exc.rule in _RANGE_RULES and _outside_type(exc.value, exc.definition):
                code = self._dialect.type_constraint
            raise FrameError(code, describe(action, exc), message_id) from None
