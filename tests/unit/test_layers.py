"""The layers, enforced: which modules may import which (an AST import contract).

Each rule is checked on the real package, and the checker itself on a
synthetic package that breaks each kind of rule, so a rule that could never
fail would show here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.imports import Rule, cycles, import_graph, violations

ROOT = Path(__file__).resolve().parents[2]

HTTP_MODULES = (
    "reconciler.client",
    "reconciler.responses",
    "reconciler.urls",
    "reconciler.emulator.transport",
)
"""The only modules that import httpx: the client, its responses and URLs, and the
emulator's in-process transport (for tests and ``reconciler emulator``)."""
HTTP = ("httpx", "httpcore", *HTTP_MODULES, "reconciler.listing", "reconciler.pacing")
IO = (
    *HTTP,
    "asyncio",
    "sqlite3",
    "socket",
    "subprocess",
    "click",
    "yaml",
    "reconciler.applier",
    "reconciler.cli",
    "reconciler.emulator",
    "reconciler.exporter",
    "reconciler.manifest",
    "reconciler.planfile",
    "reconciler.render",
    "reconciler.replace",
    "reconciler.workflow",
    "reconciler.yamlsource",
)
"""What a pure planner never reaches: the network, files, the terminal, the stages
around it."""

RULES = (
    Rule("httpx only in the HTTP modules", ("reconciler",), ("httpx", "httpcore"), HTTP_MODULES),
    Rule(
        "render/ imports no HTTP and no CLI",
        ("reconciler.render",),
        (*HTTP, "reconciler.applier", "reconciler.cli", "reconciler.emulator"),
        transitive=True,
    ),
    Rule(
        "the emulator imports nothing of the tool",
        ("reconciler.emulator",),
        ("reconciler",),
        allowed=("reconciler.emulator",),
    ),
    Rule("the planner imports no I/O", ("reconciler.planner",), IO, transitive=True),
    Rule(
        "the policy and the YAML source import nothing of the manifest side",
        ("reconciler.policy", "reconciler.yamlsource"),
        ("reconciler.manifest",),
        transitive=True,
    ),
)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT, "reconciler")


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_the_package_keeps_its_layers(graph: dict[str, set[str]], rule: Rule) -> None:
    assert violations(graph, [rule]) == []


def test_no_cycle_between_top_level_modules_and_packages(graph: dict[str, set[str]]) -> None:
    assert cycles(graph, depth=2) == []


def test_the_graph_sees_the_real_imports(graph: dict[str, set[str]]) -> None:
    """The checker reads what it should: were it blind, every rule would pass."""
    assert "httpx" in graph["reconciler.client"]
    assert "reconciler.plan" in graph["reconciler.planner"]
    assert "reconciler.yamlsource" in graph["reconciler.policy"]
    assert len(graph) > 60


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


SYNTHETIC = {
    "pkg/__init__.py": "",
    "pkg/client.py": "import httpx\n",
    "pkg/plan.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import httpx\n",
    "pkg/render/__init__.py": "",
    "pkg/render/text.py": "from ..plan import x\nfrom . import helpers\n",
    "pkg/render/helpers.py": "def f():\n    from pkg import cli\n",
    "pkg/cli.py": "import pkg.client\n",
    "pkg/emulator/__init__.py": "",
    "pkg/emulator/app.py": "from pkg.emulator import store\nfrom pkg.plan import y\n",
    "pkg/emulator/store.py": "import sqlite3\n",
    "pkg/a.py": "from pkg import b\n",
    "pkg/b.py": "import pkg.a\n",
}


def test_the_checker_finds_every_kind_of_forbidden_import(tmp_path: Path) -> None:
    """A synthetic package: httpx outside the HTTP module, a renderer reaching the CLI
    through a function-level import in a helper (relative imports resolved), the
    emulator importing the tool, and a cycle; a TYPE_CHECKING import is no breach."""
    _write(tmp_path, SYNTHETIC)
    graph = import_graph(tmp_path, "pkg")
    rules = [
        Rule("httpx", ("pkg",), ("httpx",), exempt=("pkg.client",)),
        Rule("render", ("pkg.render",), ("pkg.cli", "httpx"), transitive=True),
        Rule("render, direct", ("pkg.render",), ("pkg.cli",)),
        Rule("emulator", ("pkg.emulator",), ("pkg",), allowed=("pkg.emulator",)),
    ]
    assert violations(graph, rules) == [
        "render: pkg.render.helpers → pkg.cli",
        "render: pkg.render.text → pkg.render.helpers → pkg.cli",
        "render, direct: pkg.render.helpers → pkg.cli",
        "emulator: pkg.emulator.app → pkg.plan",
    ]
    assert cycles(graph, depth=2) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_the_checker_passes_a_package_that_keeps_the_rules(tmp_path: Path) -> None:
    _write(tmp_path, {k: v for k, v in SYNTHETIC.items() if k != "pkg/render/helpers.py"})
    graph = import_graph(tmp_path, "pkg")
    rule = Rule("render", ("pkg.render",), ("pkg.cli", "httpx"), transitive=True)
    assert violations(graph, [rule]) == []


def _layer_table() -> str:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    start = text.index("| Layer | Where |")
    return text[start : text.index("\n\n", start)]


def test_the_layer_table_lists_every_module(graph: dict[str, set[str]]) -> None:
    """docs/design.md's layer table names every module, or the package holding it."""
    listed = set(re.findall(r"`(reconciler/[\w/.]*)`", _layer_table()))
    missing = []
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        relative = path.relative_to(ROOT)
        named = {str(relative), *(f"{parent}/" for parent in relative.parents)}
        if not named & listed:
            missing.append(str(relative))
    assert missing == []
    assert all((ROOT / entry).exists() for entry in listed), "a listed module is gone"
