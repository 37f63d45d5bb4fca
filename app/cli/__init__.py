"""The ``chargeline`` command line: one module per command group, wired by ``app.cli.parser``.

``parser`` builds the argument parser from the groups (``serve`` and the other process roles,
``stations``, ``transactions``, ``db``, ``admin``, ``simulate``, ``pki``, ``devices``) and runs
the chosen command against a platform built from the settings; ``common`` holds what every group
shares (the options naming the database, the audit actor, the error a user can act on). The
console script ``chargeline`` is ``app.cli:main``.
"""

from app.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
