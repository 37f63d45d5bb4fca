"""Errors of the ownership services; ``app.api.app_common`` maps each class to one HTTP status.

::

    EnrollmentError
    └── OwnershipError
        ├── NotVisible          the object is not there for this user (404: learn nothing)
        ├── NotAllowed          the user sees the station but may not do this (403)
        ├── WrongCodes          pairing codes did not match; never says which (403)
        ├── Conflict            the state forbids it: already owned, not released, member (409)
        ├── TokenRefused        an invitation token that is unknown, used, expired or revoked
        ├── LockedOut           too many failed pairing attempts; ``retry_after`` seconds (429)
        └── BadInput            well-formed JSON with a value the service refuses (422)
"""

from __future__ import annotations

from typing import Any

from enrollment.errors import EnrollmentError


class OwnershipError(EnrollmentError):
    """Root of the ownership services' errors (pairing, members, user certificates)."""


class NotVisible(OwnershipError):  # noqa: N818
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class NotAllowed(OwnershipError):  # noqa: N818
    def __init__(self, detail: str = "your role on this station does not allow this") -> None:
        super().__init__(detail)


class WrongCodes(OwnershipError):  # noqa: N818
    def __init__(self) -> None:
        super().__init__("the scanned codes do not match a station that can be paired")


class Conflict(OwnershipError):  # noqa: N818
    def __init__(self, slug: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.extensions: dict[str, Any] = extensions


class TokenRefused(OwnershipError):  # noqa: N818
    """``reason``: unknown, used, expired or revoked."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what} link is {reason}" if reason != "unknown" else f"unknown {what}")
        self.what = what
        self.reason = reason


class LockedOut(OwnershipError):  # noqa: N818
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed pairing attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class BadInput(OwnershipError):  # noqa: N818
    def __init__(self, slug: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.extensions: dict[str, Any] = extensions
