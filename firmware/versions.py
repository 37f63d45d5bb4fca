"""Semantic ordering of firmware version strings.

SemVer 2.0 precedence (section 11): numeric core compared field by field, a pre-release sorts
below its release, pre-release identifiers compare numerically when numeric, in ASCII order
otherwise, numeric below alphanumeric, a longer identifier list above its prefix; build metadata
is ignored. Vendor strings are tolerated: a letter prefix (``v1.2``, ``R4.10.2``, ``fw-2.0``), two
or more than three core fields (``1.2`` equals ``1.2.0``), a pre-release glued to the core
(``1.2.3rc1``). A string that does not parse sorts below every parseable one, and unparseable
strings sort among themselves by their text, so every ordering is deterministic.
"""

from __future__ import annotations

import re
from functools import lru_cache

_VERSION = re.compile(
    r"""
    ^(?:[A-Za-z]+[-_]?)?                         # vendor prefix: v, V, R, fw-
    (?P<core>[0-9]+(?:\.[0-9]+)*)
    (?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)
      |(?P<glued>[A-Za-z][0-9A-Za-z-]*(?:\.[0-9A-Za-z-]+)*))?
    (?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$
    """,
    re.VERBOSE,
)

PreKey = tuple[tuple[int, int | str], ...]
VersionKey = tuple[int, tuple[int, ...], int, PreKey, str]


_CACHED_LENGTH = 64  # OCPP firmware versions are at most 50 characters


def version_key(version: str) -> VersionKey:
    """Sort key of ``version``: equal keys mean equal precedence.

    Shape: ``(parsed, core, release, pre-release, text)``; ``text`` is only filled for
    unparseable strings (so they order among themselves), build metadata never counts.
    """
    if len(version) > _CACHED_LENGTH:  # never let hostile long strings fill the cache
        return _parse(version)
    return _cached(version)


def _parse(version: str) -> VersionKey:
    match = _VERSION.match(version.strip())
    if match is None:
        return (0, (), 0, (), version)
    core = [int(part) for part in match["core"].split(".")]
    while len(core) > 3 and core[-1] == 0:
        core.pop()
    core.extend([0] * (3 - len(core)))
    pre = match["pre"] or match["glued"]
    if pre is None:
        return (1, tuple(core), 1, (), "")
    return (1, tuple(core), 0, tuple(_identifier(part) for part in pre.split(".")), "")


_cached = lru_cache(maxsize=8192)(_parse)  # a fleet runs few versions; engines compare per tick


def _identifier(part: str) -> tuple[int, int | str]:
    return (0, int(part)) if part.isdigit() else (1, part)


def is_parseable(version: str) -> bool:
    """Whether ``version`` has a semantic reading (else it sorts below every one that does)."""
    return version_key(version)[0] == 1


def is_newer(candidate: str, current: str) -> bool:
    """Whether ``candidate`` has a strictly higher precedence than ``current``."""
    return version_key(candidate) > version_key(current)


def same_version(a: str, b: str) -> bool:
    """Equal precedence (``v1.2`` and ``1.2.0+build7`` are the same version)."""
    return a == b or version_key(a) == version_key(b)
