"""The import graph of ``service/`` has no cycle.

Every ``import`` statement of every module counts, at module level or inside a function
(a function-level import only hides a cycle until the function runs). ``from pkg import
name`` points at ``pkg.name`` when that is a module, else at ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"


def module_name(path: Path, root: Path) -> str:
    """``service/web/admin.py`` -> ``service.web.admin``; a package is its ``__init__``."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path, known: set[str]) -> set[str]:
    """The modules of the package that ``path`` imports, wherever the statement is."""
    name = module_name(path, root)
    # Relative imports are resolved from the package the module is in.
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                child = f"{origin}.{alias.name}"
                found.add(child if child in known else origin)
    return {module for module in found if module in known and module != name}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Every module of the package under ``root`` and the package modules it imports."""
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    known = set(paths)
    return {name: imported_modules(path, root, known) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as the modules along it (first one repeated at the end), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        # Depth-first, iteratively: the path on the stack is the chain of imports so far.
        path = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            if step in on_path:
                return [*path[path.index(step) :], step]
            if step in done:
                continue
            path.append(step)
            on_path.add(step)
            pending.append(iter(sorted(graph[step])))
    return None


def test_the_service_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph(SERVICE))
    if cycle:
        pytest.fail("import cycle in service/: " + " -> ".join(cycle))


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A package."""\n')
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import c\nfrom . import b\n")
    (package / "b.py").write_text("import json\n\ndef late():\n    from .a import anything\n")
    (package / "sub" / "c.py").write_text("from ..b import late\n")
    graph = import_graph(package)
    assert graph["pkg.sub.c"] == {"pkg.b"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    (package / "b.py").write_text("import json\n")
    assert find_cycle(import_graph(package)) is None


def test_config_imports_nothing_of_the_project_but_its_errors() -> None:
    """Every layer may import the settings: they must import no layer back."""
    graph = import_graph(SERVICE)
    assert graph["service.config"] == {"service.errors"}


def test_the_one_redaction_imports_nothing_of_the_project() -> None:
    """The ledger, the Genesys client and the logs all mask through it."""
    graph = import_graph(SERVICE)
    assert graph["service.redaction"] == set()
    assert not [m for m in graph["service.genesys.auth"] if m.startswith("service.ops")]


def test_the_ledger_is_opened_for_reading_one_way() -> None:
    """Commands that only read open the ledger through ``commands/base.py``'s
    ``open_existing_ledger`` (never creating one); the report queries take it open."""
    defined = [
        module_name(path, SERVICE)
        for path in sorted(SERVICE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == "open_existing_ledger"
    ]
    assert defined == ["service.commands.base"]
    for path in sorted((SERVICE / "reports").rglob("*.py")):
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Ledger"
        ]
        assert not calls, f"{path.name} opens a ledger"
