"""The import graph of a package, read from its source (``ast``), and layer rules over it.

``import_graph`` maps every module of a package to the modules it imports at
run time: module-level and function-level imports both (a lazy import is still
a dependency), relative imports resolved, ``from a import b`` counted as
``a.b`` when ``b`` is a module of the package; imports under ``if
TYPE_CHECKING:`` are left out (annotations, not dependencies). ``Rule`` says
which modules may not import which; ``violations`` lists every breach, directly
or, for a transitive rule, through any chain of the package's own modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[tuple[str, tuple[str, ...]]] = set()

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update((alias.name, ()) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        self.found.add((base, tuple(alias.name for alias in node.names)))


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Every module of ``root / package`` and the modules it imports (absolute names)."""
    parsed: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for path in sorted((root / package).rglob("*.py")):
        module = _module_name(path, root)
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        parsed[module] = visitor.found
    graph: dict[str, set[str]] = {}
    for module, found in parsed.items():
        imported: set[str] = set()
        for base, names in found:
            imported.add(base)
            imported.update(f"{base}.{name}" for name in names if f"{base}.{name}" in parsed)
        imported.discard(module)
        graph[module] = imported
    return graph


def matches(module: str, patterns: Iterable[str]) -> bool:
    """``module`` is one of ``patterns`` or inside one of them (``a.b`` matches ``a.b.c``)."""
    return any(module == p or module.startswith(p + ".") for p in patterns)


@dataclass(frozen=True)
class Rule:
    """Modules in ``modules`` (but not in ``exempt``) may not import ``forbidden`` (unless
    ``allowed``). Transitive: nor through any chain of the package's own modules."""

    name: str
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]
    exempt: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    transitive: bool = False


def _chain(graph: Mapping[str, set[str]], start: str, rule: Rule) -> list[str] | None:
    """The shortest chain of imports from ``start`` to a forbidden module, if any."""
    seen = {start}
    paths = [[start]]
    while paths:
        following = []
        for path in paths:
            for imported in sorted(graph.get(path[-1], ())):
                if matches(imported, rule.forbidden) and not matches(imported, rule.allowed):
                    return [*path, imported]
                if rule.transitive and imported in graph and imported not in seen:
                    seen.add(imported)
                    following.append([*path, imported])
        paths = following
    return None


def violations(graph: Mapping[str, set[str]], rules: Iterable[Rule]) -> list[str]:
    """``rule: a imports b`` (or ``a → b → c``) for every module that breaks a rule."""
    found = []
    for rule in rules:
        for module in sorted(graph):
            if not matches(module, rule.modules) or matches(module, rule.exempt):
                continue
            chain = _chain(graph, module, rule)
            if chain is not None:
                found.append(f"{rule.name}: {' → '.join(chain)}")
    return found


def cycles(graph: Mapping[str, set[str]], depth: int) -> list[list[str]]:
    """Cycles between the package's modules folded to ``depth`` name parts
    (``reconciler.manifest.loader`` at depth 2 is ``reconciler.manifest``)."""
    folded: dict[str, set[str]] = {}
    for module, imported in graph.items():
        node = ".".join(module.split(".")[:depth])
        targets = {".".join(i.split(".")[:depth]) for i in imported if i in graph}
        folded.setdefault(node, set()).update(targets - {node})
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(folded.get(node, ())):
            if state.get(target) == 1:
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(folded):
        if node not in state:
            visit(node)
    return found
