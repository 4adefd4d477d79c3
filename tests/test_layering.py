"""Imports flow one way (ARCHITECTURE.md): a backwards edge fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "durableflow"

# part -> the parts of durableflow it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "discovery": {"core"},
    "linter": {"core", "discovery"},
    "ir": {"core"},
    "compiler": {"core", "ir", "discovery", "linter"},
    "runtime": {"core", "ir"},
    "testing": {"core", "ir", "runtime", "compiler", "discovery"},
    "cli": {"core", "ir", "runtime", "compiler", "linter", "discovery", "testing"},
    "__init__": {"core", "runtime"},
}
# Third-party packages some parts must never load.
FORBIDDEN_THIRD_PARTY = {
    "runtime": {"libcst"},
    "core": {"libcst", "lark", "networkx"},
    "ir": {"libcst"},
}


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_allowed_parts(path: Path) -> None:
    part = part_of(path)
    allowed = ALLOWED.get(part)
    assert allowed is not None, f"{part} is not in the layering table; add it deliberately"
    for module in imported_modules(path):
        top = module.split(".")[0]
        if top == "durableflow":
            target = module.split(".")[1] if "." in module else "__init__"
            if target != part:
                assert target in allowed, f"{path.name}: {part} must not import {module}"
        else:
            assert top not in FORBIDDEN_THIRD_PARTY.get(part, set()), (
                f"{path.name}: {part} must not import {top}"
            )


def test_nothing_imports_the_cli() -> None:
    for path in MODULES:
        if part_of(path) == "cli":
            continue
        assert not any(m.startswith("durableflow.cli") for m in imported_modules(path)), path
