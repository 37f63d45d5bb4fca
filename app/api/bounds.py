"""Bounded integers for the REST edge: every integer a client sends has a range.

Python integers have no size, but the databases store 32- and 64-bit integers and OCPP's
integer fields are 32-bit in practice. An unbounded ``int`` taken from a query, a path or a body
(``offset=2**63``) reaches the database or a station and fails there with a 500. Annotating
every such parameter with one of these aliases stops it at validation instead: 422
problem+json naming the field.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

__all__ = ["MAX_INT32", "NonNegativeInt32", "PositiveInt32"]

MAX_INT32 = 2**31 - 1

NonNegativeInt32 = Annotated[int, Ge(0), Le(MAX_INT32)]
"""0 .. 2**31 - 1: offsets, EVSE ids where 0 means the whole station."""

PositiveInt32 = Annotated[int, Ge(1), Le(MAX_INT32)]
"""1 .. 2**31 - 1: database ids, EVSE and connector ids."""
