"""RFC 9457 problem details: every error the API returns has this shape.

Domain packages raise their own exceptions; this module is the one place that maps them to
HTTP statuses and stable problem ``type`` URIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sqlalchemy_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.ca.errors import AlreadyRevoked, CAError, CANotInitialized, UnknownCertificate
from app.db import RETRY_AFTER_SECONDS, is_database_outage
from app.identity import accounts
from app.identity.service import AccountError
from charging import errors as charging_errors
from enrollment import errors as enrollment_errors
from enrollment import service_errors
from enrollment.ownership import errors as ownership
from enrollment.sealing import SealError
from firmware import downloads
from firmware import errors as firmware_errors
from firmware import signatures as firmware_signatures
from firmware.rollout.states import InvalidTransition as RolloutTransition
from firmware.rollout.states import PolicyError, RolloutError
from firmware.service import errors as rollout_errors
from ocpp_edge.errors import InvalidReplyError, OcppEdgeError, UnsupportedError
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline
from pki import CsrRejected, IssuanceRefused, PkiError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://chargeline.dev/problems/"


class Problem(Exception):
    """An error with an HTTP status, a stable type slug and a human-readable detail."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extensions)
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def forbidden(detail: str = "you may not do this") -> Problem:
    return Problem(403, "forbidden", detail)


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", f"{what} not found")


def database_unavailable(
    detail: str = "the database is unavailable; retry later", slug: str = "database-unavailable"
) -> Problem:
    """503 with Retry-After: an outage the platform recovers from by itself."""
    return Problem(503, slug, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# -- the one map from domain errors to problems ----------------------------------------------
#
# Routers let domain errors propagate; :func:`install` registers a handler for each package's
# root exception, and :func:`domain_problem` answers with the first entry that matches, so a
# more specific class must stand before its base.

_SIMPLE: tuple[tuple[type[Exception], int, str], ...] = (
    (service_errors.UnknownDevice, 404, "not-found"),
    (service_errors.IdempotencyKeyReused, 409, "idempotency-key-reused"),
    (service_errors.MacPoolEmpty, 409, "mac-pool-exhausted"),
    (service_errors.FamilyExists, 409, "family-exists"),
    (service_errors.FamilyInUse, 409, "family-in-use"),
    (service_errors.MacRangeOverlap, 409, "mac-range-overlap"),
    (service_errors.LabelsUnavailable, 409, "labels-unavailable"),
    (service_errors.UnknownFamily, 422, "unknown-family"),
    (enrollment_errors.InvalidMacRange, 422, "invalid-mac-range"),
    (enrollment_errors.InvalidSerial, 422, "invalid-serial"),
    (enrollment_errors.MetadataRefused, 422, "invalid-metadata"),
    (SealError, 500, "sealed-codes-unreadable"),
    (ownership.WrongCodes, 403, "pairing-refused"),
    (accounts.NotVerified, 403, "email-not-verified"),
    (ownership.NotAllowed, 403, "forbidden"),
    (charging_errors.NotAllowed, 403, "forbidden"),
    (ownership.NotVisible, 404, "not-found"),
    (charging_errors.NotVisible, 404, "not-found"),
    (accounts.UnknownAccount, 404, "not-found"),
    (charging_errors.StationExists, 409, "station-exists"),
    (AlreadyRevoked, 409, "already-revoked"),
    (UnknownCertificate, 404, "not-found"),
    (CANotInitialized, 503, "ca-not-initialized"),
    (firmware_errors.UnknownImage, 404, "not-found"),
    (firmware_errors.UnknownChannel, 404, "not-found"),
    (firmware_errors.UnknownStation, 404, "not-found"),
    (firmware_errors.UnknownFamily, 422, "unknown-family"),
    (firmware_errors.InvalidChannelName, 422, "invalid-channel"),
    (firmware_errors.ChannelExists, 409, "channel-exists"),
    (firmware_errors.DuplicateVersion, 409, "firmware-version-exists"),
    (firmware_errors.ImageTooLarge, 413, "payload-too-large"),
    (firmware_errors.ChecksumMismatch, 422, "checksum-mismatch"),
    (firmware_errors.WrongFamily, 422, "wrong-family"),
    (firmware_errors.Downgrade, 409, "firmware-downgrade"),
    (firmware_errors.SigningUnavailable, 422, "signing-unavailable"),
    (firmware_errors.InvalidSigningRoot, 422, "invalid-signing-root"),
    (firmware_errors.ImageInUse, 409, "image-in-use"),
    (firmware_errors.ImageUnreadable, 500, "image-unreadable"),
    (firmware_signatures.MalformedSignature, 422, "malformed-signature"),
    (firmware_signatures.SignatureMismatch, 422, "signature-mismatch"),
    (firmware_signatures.UntrustedSigner, 422, "untrusted-signer"),
    (firmware_signatures.SignerExpired, 422, "signer-expired"),
    (firmware_signatures.SignerRevoked, 422, "signer-revoked"),
    (StationOffline, 409, "station-offline"),
    (CommandTimeout, 504, "station-timeout"),
    (UnsupportedError, 422, "command-not-expressible"),
    (InvalidReplyError, 422, "command-not-expressible"),
    (downloads.LinkForged, 403, "download-link-invalid"),
    (downloads.LinkNotYetValid, 403, "download-link-not-yet-valid"),
    (downloads.LinkExpired, 410, "download-link-expired"),
    (downloads.LocationTooLong, 422, "location-too-long"),
    (rollout_errors.RolloutNotFound, 404, "not-found"),
)


def _transition(exc: enrollment_errors.InvalidTransition) -> Problem:
    return Problem(
        409,
        "invalid-transition",
        str(exc),
        current_state=exc.current.value,
        requested_state=exc.requested.value,
    )


def _registration(exc: service_errors.RegistrationConflict) -> Problem:
    differences = [asdict(difference) for difference in exc.differences]
    return Problem(409, "registration-conflict", str(exc), differences=differences)


def _token(exc: ownership.TokenRefused | accounts.TokenRefused) -> Problem:
    status = 404 if exc.reason == "unknown" else 410
    return Problem(status, f"{exc.what.replace(' ', '-')}-{exc.reason}", str(exc))


def _station_field(exc: Exception) -> Problem:
    field = "id" if isinstance(exc, charging_errors.InvalidStationId) else "password"
    return Problem(
        422, "validation-error", str(exc), errors=[{"field": field, "message": str(exc)}]
    )


def _upload_field(slug: str) -> Callable[[Any], Problem]:
    def shape(exc: firmware_errors.MalformedUpload | firmware_errors.InvalidVersion) -> Problem:
        if exc.field is None:
            return Problem(422, slug, str(exc))
        return Problem(422, slug, str(exc), errors=[{"field": exc.field, "message": str(exc)}])

    return shape


def _field_error(slug: str, field: str, message: str, **extensions: Any) -> Problem:
    return Problem(
        422,
        slug,
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
        **extensions,
    )


_SHAPED: tuple[tuple[type[Any], Callable[[Any], Problem]], ...] = (
    (firmware_errors.InvalidVersion, _upload_field("invalid-version")),
    (firmware_errors.MalformedUpload, _upload_field("malformed-upload")),
    (
        rollout_errors.TargetsOverlap,
        lambda exc: Problem(
            409,
            "rollout-targets-overlap",
            str(exc),
            stations=exc.stations,
            rollout_ids=exc.rollout_ids,
        ),
    ),
    (
        rollout_errors.DowngradeRefused,
        lambda exc: _field_error(
            "downgrade-refused", exc.field, exc.message, stations=exc.stations[:100]
        ),
    ),
    (
        rollout_errors.RolloutRefused,
        lambda exc: _field_error("validation-error", exc.field, exc.message),
    ),
    (
        PolicyError,
        lambda exc: _field_error("validation-error", f"policy.{exc.field}", exc.message),
    ),
    (
        RolloutTransition,
        lambda exc: Problem(
            409,
            "invalid-transition",
            str(exc),
            current_state=exc.current,
            requested_state=exc.requested,
        ),
    ),
    (enrollment_errors.InvalidTransition, _transition),
    (service_errors.RegistrationConflict, _registration),
    (
        enrollment_errors.CsvImportError,
        lambda exc: Problem(422, "csv-refused", exc.detail, reason=exc.reason.value),
    ),
    (ownership.TokenRefused, _token),
    (accounts.TokenRefused, _token),
    (
        ownership.LockedOut,
        lambda exc: Problem(
            429, "too-many-attempts", str(exc), headers={"Retry-After": str(exc.retry_after)}
        ),
    ),
    (ownership.Conflict, lambda exc: Problem(409, exc.slug, str(exc), **exc.extensions)),
    (charging_errors.Conflict, lambda exc: Problem(409, exc.slug, str(exc), **exc.extensions)),
    (ownership.BadInput, lambda exc: Problem(422, exc.slug, str(exc), **exc.extensions)),
    (accounts.BadInput, lambda exc: Problem(422, exc.slug, str(exc), **exc.extensions)),
    (charging_errors.InvalidStationId, _station_field),
    (charging_errors.InvalidStationPassword, _station_field),
    (charging_errors.UnknownStation, lambda _exc: not_found("station")),
    (
        StationCallError,
        lambda exc: Problem(502, "station-error", str(exc), ocpp_error_code=exc.code),
    ),
    (
        CsrRejected,
        lambda exc: Problem(422, "csr-rejected", f"CSR rejected: {exc.reason}", reason=exc.reason),
    ),
    (IssuanceRefused, lambda exc: Problem(422, "issuance-refused", exc.reason)),
    (
        AccountError,
        lambda exc: Problem(409 if "exists" in str(exc) else 422, "account-refused", str(exc)),
    ),
    (accounts.AccountLinkError, lambda exc: Problem(422, "account-refused", str(exc))),
    (enrollment_errors.EnrollmentError, lambda exc: Problem(422, "enrollment-refused", str(exc))),
    (PkiError, lambda exc: Problem(500, "pki-error", str(exc))),
)

DOMAIN_ROOTS: tuple[type[Exception], ...] = (
    rollout_errors.RolloutServiceError,
    RolloutError,
    enrollment_errors.EnrollmentError,
    firmware_errors.FirmwareError,
    charging_errors.ChargingError,
    OcppEdgeError,
    PkiError,
    CAError,
    AccountError,
    accounts.AccountLinkError,
    SealError,
    downloads.DownloadError,
)


def domain_problem(exc: Exception) -> Problem | None:
    """The problem+json for a domain error, or None for one the map does not know."""
    for exc_type, status, slug in _SIMPLE:
        if isinstance(exc, exc_type):
            return Problem(status, slug, str(exc))
    for shaped_type, shape in _SHAPED:
        if isinstance(exc, shaped_type):
            return shape(exc)
    return None


ErrorMapper = Callable[[Exception], Problem]


def install(app: FastAPI, mappers: Sequence[tuple[type[Exception], ErrorMapper]] = ()) -> None:
    """Install the handlers that turn every error, domain errors included, into problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        problem = Problem(exc.status_code, slug, detail, headers=dict(exc.headers or {}))
        return problem_response(problem, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] or "body" for e in errors)
        problem = Problem(422, "validation-error", f"invalid request: {fields}", errors=errors)
        return problem_response(problem, request.url.path)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        for exc_type, mapper in mappers:
            if isinstance(exc, exc_type):
                return problem_response(mapper(exc), request.url.path)
        problem = domain_problem(exc)
        if problem is None:
            raise exc
        return problem_response(problem, request.url.path)

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_outage(exc):
            raise exc
        return problem_response(database_unavailable(), request.url.path)

    app.add_exception_handler(Problem, on_problem)
    for database_error in (sqlalchemy_errors.DBAPIError, sqlalchemy_errors.TimeoutError):
        app.add_exception_handler(database_error, on_database)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    for exc_type in (*DOMAIN_ROOTS, *(exc_type for exc_type, _ in mappers)):
        app.add_exception_handler(exc_type, on_domain)
