"""The input layer's part of the import order (issue 14 item 5): parsing is a leaf, adapters return
frames without importing io (io alone builds RevOpsData), and nothing below the CLI imports it."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "revops_kit"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved), at any depth."""
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
            elif node.module:
                out.add(node.module)
    return out


def _modules(folder: Path):
    return sorted(p for p in folder.rglob("*.py"))


def test_parsing_is_a_leaf():
    ours = {m for m in _imports(PKG / "parsing.py") if m.startswith("revops_kit")}
    assert ours <= {"revops_kit.errors", "revops_kit.errors.RevOpsError"}, ours


def test_adapters_do_not_import_io_or_the_cli():
    for path in _modules(PKG / "adapters"):
        bad = {m for m in _imports(path) if m.startswith(("revops_kit.io", "revops_kit.cli"))}
        assert not bad, f"{path.relative_to(PKG)} imports {bad}"


def test_nothing_below_the_cli_imports_it():
    for path in _modules(PKG):
        if "cli" in path.relative_to(PKG).parts:
            continue
        bad = {m for m in _imports(path) if m == "revops_kit.cli" or m.startswith("revops_kit.cli.")}
        assert not bad, f"{path.relative_to(PKG)} imports {bad}"
