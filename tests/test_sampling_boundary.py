"""Sampling goes through the core: only ``bayescale/inference/`` imports nutpie
(issue 24), so every model gets its compile caches, start and interrupt handling."""

from __future__ import annotations

import ast
from pathlib import Path

import bayescale

PACKAGE = Path(bayescale.__file__).resolve().parent
CORE = PACKAGE / "inference"


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, at any depth
    (function-level imports included)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_imported_modules_sees_function_level_imports():
    code = "def f():\n    import nutpie.sample\n\nclass A:\n    def g(self):\n        from x import y\n"
    assert imported_modules(ast.parse(code)) == {"nutpie.sample", "x"}


def test_only_the_inference_core_imports_nutpie():
    outside = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if CORE not in path.parents
        and any(
            name.split(".")[0] == "nutpie"
            for name in imported_modules(ast.parse(path.read_text(), filename=str(path)))
        )
    )
    assert outside == []
