"""The rules of the services' inner shape that a reader could break without noticing, checked on
the source: SQL lives in store modules, no service reaches into another, and no module uses
another's private helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
QUERY_BUILDERS = {"select", "update", "delete", "insert", "text", "func", "and_", "or_", "case"}


def _modules(service: str) -> list[Path]:
    package = ROOT / "services" / service / "src" / "switchboard" / service
    return [p for p in sorted(package.rglob("*.py")) if "migrations" not in p.parts]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_store(path: Path, tree: ast.Module) -> bool:
    """A module that declares tables, or a read model's queries named `*store.py`."""
    declares = any(
        isinstance(node, ast.ClassDef) and any(k.arg == "table" for k in node.keywords)
        for node in ast.walk(tree)
    )
    return declares or path.stem.endswith("store")


def _imports(tree: ast.Module) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_sql_is_built_in_store_modules_only(service: str) -> None:
    """Handlers, routes and domains call keyword-only store functions; they may get an aggregate
    by its key and add it (the unit of work), but build no query."""
    offenders = []
    for path in _modules(service):
        tree = _tree(path)
        if _is_store(path, tree):
            continue
        builders = {
            name
            for module, name in _imports(tree)
            if module.split(".")[0] in ("sqlalchemy", "sqlmodel") and name in QUERY_BUILDERS
        }
        if builders:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(builders)}")
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    """Services meet through events and HTTP, never through each other's code or tables."""
    others = {f"switchboard.{s}" for s in SERVICES if s != service}
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _modules(service)
        for module, name in _imports(_tree(path))
        if any(f"{module}.{name}".startswith(other) for other in others)
    ]
    assert offenders == []


def test_no_module_imports_anothers_private_names() -> None:
    sources = [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/*/src/**/*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}: {module}.{name}"
        for path in sources
        for module, name in _imports(_tree(path))
        if module.startswith("switchboard") and name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []
