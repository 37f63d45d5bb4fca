"""The factory line's wiring: keys, roles, audit, and the one map from its errors to problems.

Shared by the families, devices, labels and enrollment routers and by ``chargeline devices``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated

from fastapi import Depends

from app.deps import PlatformDep, require_role
from app.identity.jwt_tokens import Principal
from app.problems import Problem
from app.settings import Settings
from enrollment.errors import (
    CsvImportError,
    EnrollmentError,
    InvalidMacRange,
    InvalidSerial,
    InvalidTransition,
    MetadataRefused,
)
from enrollment.sealing import SealError, SecretKeys
from enrollment.service_errors import (
    FamilyExists,
    FamilyInUse,
    IdempotencyKeyReused,
    LabelsUnavailable,
    MacPoolEmpty,
    MacRangeOverlap,
    RegistrationConflict,
    UnknownDevice,
    UnknownFamily,
)

__all__ = [
    "KeysDep",
    "LinePrincipal",
    "domain_errors",
    "problem_for",
    "secret_keys",
]

LinePrincipal = Annotated[Principal, Depends(require_role("manufacturing", "admin"))]
"""The line scripts (``manufacturing``) and admins."""


def secret_keys(settings: Settings) -> SecretKeys:
    """The code pepper and the label sealing key, from the settings' secrets."""
    pepper = settings.code_pepper.get_secret_value() if settings.code_pepper else None
    return SecretKeys.from_secrets(settings.secret_key.get_secret_value(), pepper)


def get_keys(platform: PlatformDep) -> SecretKeys:
    return secret_keys(platform.settings)


KeysDep = Annotated[SecretKeys, Depends(get_keys)]


_SIMPLE: tuple[tuple[type[EnrollmentError], int, str], ...] = (
    (UnknownDevice, 404, "not-found"),
    (IdempotencyKeyReused, 409, "idempotency-key-reused"),
    (MacPoolEmpty, 409, "mac-pool-exhausted"),
    (FamilyExists, 409, "family-exists"),
    (FamilyInUse, 409, "family-in-use"),
    (MacRangeOverlap, 409, "mac-range-overlap"),
    (LabelsUnavailable, 409, "labels-unavailable"),
    (UnknownFamily, 422, "unknown-family"),
    (InvalidMacRange, 422, "invalid-mac-range"),
    (InvalidSerial, 422, "invalid-serial"),
    (MetadataRefused, 422, "invalid-metadata"),
    (SealError, 500, "sealed-codes-unreadable"),
)


def problem_for(exc: EnrollmentError) -> Problem:
    """The problem+json answer for an error of the factory line."""
    if isinstance(exc, InvalidTransition):
        return Problem(
            409,
            "invalid-transition",
            str(exc),
            current_state=exc.current.value,
            requested_state=exc.requested.value,
        )
    if isinstance(exc, RegistrationConflict):
        return Problem(
            409,
            "registration-conflict",
            str(exc),
            differences=[asdict(difference) for difference in exc.differences],
        )
    if isinstance(exc, CsvImportError):
        return Problem(422, "csv-refused", exc.detail, reason=exc.reason.value)
    for exc_type, status, slug in _SIMPLE:
        if isinstance(exc, exc_type):
            return Problem(status, slug, str(exc))
    return Problem(422, "enrollment-refused", str(exc))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the factory line's errors raised inside the block into problems."""
    try:
        yield
    except EnrollmentError as exc:
        raise problem_for(exc) from exc
