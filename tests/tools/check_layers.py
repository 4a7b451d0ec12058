#!/usr/bin/env python3
"""Check Kindly's import structure: arrows point ``ui → core → storage`` and nothing imports back.

    python tests/tools/check_layers.py [PROJECT_ROOT]     (default: this checkout)

Exit 0 when clean; 1 with one line per problem. Reads the code with ``ast`` and runs none of it.
Every import counts, wherever it is written (in a function, under ``if TYPE_CHECKING``): an
import hidden in a function body is still an arrow in the design. ``tasks.py lint`` runs this;
``tests/test_layers.py`` runs it too, with a self-test on a small fake project.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# package -> what no module in it may import (a name or anything below it)
LAYER_RULES: dict[str, tuple[str, ...]] = {
    "app.storage": ("PySide6", "app.core", "app.ui"),
    "app.core": ("PySide6.QtWidgets", "PySide6.QtGui", "app.ui"),
}


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement: ``import source`` or ``from source import also…``."""

    source: str
    line: int
    also: tuple[str, ...] = ()  # source.name for each name imported from it (maybe modules)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.source, *self.also)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import …`` written in ``module``."""
    if not level:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def imports_in(path: Path, module: str) -> list[Import]:
    """Every import statement in the file, with absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node.level, node.module)
            also = tuple(f"{source}.{a.name}" for a in node.names if a.name != "*")
            found.append(Import(source, node.lineno, also))
    return found


def _is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """One concrete, shortest cycle through a strongly connected component, to report."""
    start = min(component)
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in sorted(graph[current] & component):
            if nxt == start:
                path = [current]
                while (parent := parents[path[-1]]) is not None:
                    path.append(parent)
                return [*reversed(path), start]
            if nxt not in parents:
                parents[nxt] = current
                queue.append(nxt)
    return [*sorted(component), start]  # not reached: every component has a cycle


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit on big graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def _banned(name: str, banned: tuple[str, ...]) -> str | None:
    return next((prefix for prefix in banned if _is_under(name, prefix)), None)


def check(root: Path) -> list[str]:
    """Every layering problem and import cycle among the modules of ``root/app``."""
    files = sorted((root / "app").rglob("*.py")) if (root / "app").is_dir() else []
    if not files:
        return [f"no app/ package under {root}"]
    modules = {module_name(root, path): path for path in files}
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        try:
            found = imports_in(path, module)
        except SyntaxError as exc:
            problems.append(f"syntax: {path.relative_to(root)}:{exc.lineno}: {exc.msg}")
            continue
        for imp in found:
            for layer, banned in LAYER_RULES.items():
                if not _is_under(module, layer):
                    continue
                # ``from app import ui`` imports app.ui: check the names under the source too,
                # but report a banned source once, not once per name taken from it.
                names = (imp.source,) if _banned(imp.source, banned) else imp.also
                for name in names:
                    prefix = _banned(name, banned)
                    if prefix:
                        problems.append(
                            f"layering: {module} imports {name} ({path.relative_to(root)}:"
                            f"{imp.line}); {layer} must not import {prefix}"
                        )
            graph[module].update(n for n in imp.names if n in modules and n != module)
    for component in strongly_connected(graph):
        problems.append("cycle: " + " -> ".join(_cycle_in(component, graph)))
    return list(dict.fromkeys(problems))


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else Path(__file__).resolve().parents[2]
    problems = check(root)
    if problems:
        print("\n".join(problems))
        print(f"check_layers: {len(problems)} problem(s)")
        return 1
    count = sum(1 for _ in (root / "app").rglob("*.py"))
    print(f"check_layers: {count} modules, layering clean, no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
