"""RFC 9457 problem details: every error the API returns has this shape.

Domain packages raise their own exceptions; this module is the one place that maps them to
HTTP statuses and stable problem ``type`` URIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sqlalchemy_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import RETRY_AFTER_SECONDS, is_database_outage

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
        raise exc

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_outage(exc):
            raise exc
        return problem_response(database_unavailable(), request.url.path)

    app.add_exception_handler(Problem, on_problem)
    for database_error in (sqlalchemy_errors.DBAPIError, sqlalchemy_errors.TimeoutError):
        app.add_exception_handler(database_error, on_database)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    for exc_type, _ in mappers:
        app.add_exception_handler(exc_type, on_domain)
