"""What the project's modules import, read from their source with ``ast`` (nothing is imported).

Every import statement counts, wherever it is: at the top, inside a function (the lazy imports that keep
cold starts small) and under ``if TYPE_CHECKING:``, since each says which module depends on which.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Import:
    """``from module import name`` (``name`` None for ``import module``), at ``line`` of the importer."""

    module: str
    name: str | None
    line: int


def modules(folder: Path, package: str) -> dict[str, Path]:
    """Every module of the package in ``folder`` (subpackages included), by dotted name."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        parts = [package, *path.relative_to(folder).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, module: str) -> list[Import]:
    """The imports of ``module`` (the file at ``path``), relative ones resolved to absolute names."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found += [Import(base, alias.name, node.lineno) for alias in node.names]
    return found


def dependencies(known: dict[str, Path]) -> dict[str, set[str]]:
    """For each module of ``known``, the modules of ``known`` it imports (``from package import module``
    counts as importing that module)."""
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets = set()
        for imp in imports(path, module):
            if imp.name is not None and f"{imp.module}.{imp.name}" in known:
                targets.add(f"{imp.module}.{imp.name}")
            elif imp.module in known:
                targets.add(imp.module)
        graph[module] = targets - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as the modules along it, first one repeated at the end; None when acyclic."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
