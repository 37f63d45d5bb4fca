"""Dependencies point inward: each domain package imports only the packages DESIGN.md allows.

Read from the source with ``ast`` (imports inside functions count too), so a shortcut through
``app`` from a domain package fails here before it becomes a habit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"app", "common", "pki", "enrollment", "firmware", "charging", "ocpp_edge", "simulator"}
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "pki": set(),
    "charging": {"common"},
    "enrollment": {"pki", "charging", "common"},
    "firmware": {"pki", "enrollment", "charging", "common"},
    "ocpp_edge": {"charging", "common"},
    "simulator": {"ocpp_edge"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_domain_package_imports_only_what_it_may(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[package] - {package})
        for path in files
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from app.platform import Platform\n    import pki.csr\n")
    assert imported_packages(module) == {"app", "pki"}
