"""The docs stay honest where a machine can tell: docs/design.md names every key the JSON
plan and the saved plan hold, docs/api-contract.md every route and option of the emulator,
and every ``docs/*.md`` a module cites (with any quoted section) exists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler import planfile
from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.command import emulator
from reconciler.identity import Identity
from reconciler.models import Desired
from reconciler.plan import Action, ActionKind, FieldChange, Plan
from reconciler.policy import DEFAULT_POLICY
from reconciler.render import Target, render_json
from tests.support.factories import remote

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
DESIGN = DOCS / "design.md"
API_CONTRACT = DOCS / "api-contract.md"
# docs/NAME.md, then optionally the quoted section names that follow it: ("A", "B") or "A"
CITATION = re.compile(r'docs/([\w.-]+\.md)(?:\s*\(?\s*((?:"[^"\n]+"\s*,?\s*)+))?')
OLD_CITATIONS = ("DESIGN" + ".md", "API-" + "CONTRACT")


def _code_words(doc: Path) -> set[str]:
    """Every word inside the doc's inline code spans (`format_version`, `{id, updated_at}`)."""
    spans = re.findall(r"`([^`\n]+)`", doc.read_text(encoding="utf-8"))
    return {word for span in spans for word in re.findall(r"\w+", span)}


def _headings(doc: Path) -> set[str]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def _keys(value: Any) -> Iterator[str]:
    """Every object key in a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _undocumented(keys: Iterable[str], doc: Path) -> list[str]:
    words = _code_words(doc)
    return sorted({key for key in keys if key not in words})


def _rich_plan() -> Plan:
    """A plan that uses every optional key of the JSON form."""
    current = remote("acme", "organization", config={"account": "a"})
    replaced = Action(
        ActionKind.REPLACE,
        "acme",
        "organization",
        fields=(
            FieldChange("config.account", "a", "b", forces_replacement=True),
            FieldChange("scopes", ["x"], ["y"], added=("y",), removed=("x",)),
            FieldChange("description", "d", "d", carried_over=True),
            FieldChange("credentials.client_secret", None, "(sensitive)", sensitive=True),
        ),
        reason="config cannot change in place",
        remote=current,
    )
    created = Action(ActionKind.CREATE, "github", "user", (FieldChange("enabled", None, True),))
    return Plan(
        actions=(replaced, created),
        unmanaged=(Identity("slack", "user"),),
        warnings=("a warning",),
    )


def test_every_json_plan_key_is_in_design_md() -> None:
    target = Target("https://api.workos.com", "sk_…1234", ("integrations.yaml",), "policy p.yaml")
    document = json.loads(render_json(_rich_plan(), target=target))
    assert {"format_version", "changes", "target"} <= document.keys()
    assert document["changes"][0]["remote"], "the sample plan must exercise every key"
    assert _undocumented(_keys(document), DESIGN) == []


def test_every_saved_plan_key_is_in_design_md() -> None:
    text = planfile.dump(
        Plan(),
        Desired(),
        api_url="https://api.workos.com",
        api_key="sk_docs",
        policy=DEFAULT_POLICY,
    )
    saved = json.loads(text)
    assert "api_key_fingerprint" in saved
    # digests has no entry for an empty plan: its keys are named in the saved-plan table too
    assert _undocumented([*_keys(saved), "change", "secret"], DESIGN) == []


def _served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the emulator app serves (HEAD aside)."""
    app = create_app(api_key="sk_docs")
    try:
        routes: Iterable[Any]
        try:  # FastAPI 0.16x keeps included routers as one entry each: flatten them
            from fastapi.routing import iter_route_contexts

            routes = iter_route_contexts(app.routes)
        except ImportError:  # older FastAPI: app.routes is already flat
            routes = app.routes
        served = set()
        for route in routes:
            path = getattr(route, "path", None)
            for method in getattr(route, "methods", None) or ():
                if path and method != "HEAD":
                    served.add((str(method), str(path)))
        return served
    finally:
        store_of(app).close()


def test_every_emulator_route_is_in_api_contract_md() -> None:
    served = _served_routes()
    assert ("GET", "/data-integrations") in served and ("POST", "/_emulator/reset") in served
    text = API_CONTRACT.read_text(encoding="utf-8")
    missing = sorted(
        f"{method} {path}" for method, path in served if f"{method} {path}" not in text
    )
    assert missing == []


def test_every_emulator_option_is_in_api_contract_md() -> None:
    options = [
        name
        for param in emulator.params
        if isinstance(param, click.Option)
        for name in param.opts
        if name.startswith("--") and name != "--help"
    ]
    assert "--fail-rate" in options
    text = API_CONTRACT.read_text(encoding="utf-8")
    assert [o for o in options if f"`{o}" not in text] == []


def _citations() -> Iterator[tuple[Path, str, list[str]]]:
    for source in sorted((REPO_ROOT / "reconciler").rglob("*.py")):
        for match in CITATION.finditer(source.read_text(encoding="utf-8")):
            sections = re.findall(r'"([^"]+)"', match.group(2) or "")
            yield source, match.group(1), sections


def test_every_docs_citation_in_reconciler_resolves() -> None:
    broken = []
    for source, name, sections in _citations():
        doc = DOCS / name
        where = f"{source.relative_to(REPO_ROOT)}: docs/{name}"
        if not doc.is_file():
            broken.append(f"{where}: no such file")
            continue
        broken.extend(f'{where}: no section "{s}"' for s in sections if s not in _headings(doc))
    assert broken == []


@pytest.mark.parametrize("tree", ["reconciler", "tests"])
def test_no_citation_of_documents_outside_the_repository(tree: str) -> None:
    this = Path(__file__).resolve()
    stale = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / tree).rglob("*.py"))
        if path.resolve() != this
        and any(old in path.read_text(encoding="utf-8") for old in OLD_CITATIONS)
    ]
    assert stale == []
