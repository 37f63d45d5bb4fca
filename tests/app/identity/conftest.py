"""Fixtures of the account tests: a platform with its CA, mailing to the real SMTP server."""

from tests.mailing import platform, settings

__all__ = ["platform", "settings"]
