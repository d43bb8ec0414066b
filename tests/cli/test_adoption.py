"""`plan --baseline PATH`: unchanged entries the base branch's manifests don't list show as
adopted in every format, and are never a change."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fastapi import FastAPI

from reconciler.adoption import read_baseline
from reconciler.emulator.app import create_app
from tests.support import REPO_ROOT, SLACK_AND_NOTION_SEED, invoke

BASE = """\
version: 1
integrations:
  - slug: slack
    ownership: organization
    description: old description
"""
HEAD = BASE + "  - slug: notion\n"
"""The pull request adds notion (user), which exists remotely and matches."""
PLAN_SCHEMA = json.loads((REPO_ROOT / "schemas" / "plan.schema.json").read_text())


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.chdir(tmp_path)
    Path("integrations.yaml").write_text(HEAD, encoding="utf-8")
    Path("base").mkdir()
    Path("base/integrations.yaml").write_text(BASE, encoding="utf-8")
    return create_app(seed=SLACK_AND_NOTION_SEED)


def test_adopted_in_text_and_not_a_change(app: FastAPI) -> None:
    without = invoke(app, "plan", "--detailed-exitcode")
    assert without.exit_code == 0, without.output
    assert "adopted" not in without.output.lower()
    assert "2 unchanged, 0 unmanaged" in without.output

    result = invoke(app, "plan", "--baseline", "base", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "Adopted (not in the baseline; will be managed; no change):\n  = notion (user)" in (
        result.output
    )
    assert "1 unchanged, 1 adopted, 0 unmanaged." in result.output
    assert "No changes." in result.output


def test_adopted_in_json(app: FastAPI) -> None:
    result = invoke(app, "plan", "--baseline", "base/integrations.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    jsonschema.validate(document, PLAN_SCHEMA)
    assert document["adopted"] == [{"slug": "notion", "ownership": "user"}]
    assert document["summary"]["adopted"] == 1
    assert document["summary"]["unchanged"] == 1
    assert document["changes"] == []
    plain = json.loads(invoke(app, "plan", "--format", "json").output)
    assert plain["adopted"] == [] and plain["summary"]["adopted"] == 0


def test_adopted_in_markdown_with_other_changes(app: FastAPI) -> None:
    Path("integrations.yaml").write_text(
        HEAD.replace("old description", "new description"), encoding="utf-8"
    )
    result = invoke(
        app, "plan", "--baseline", "base", "--format", "markdown", "--detailed-exitcode"
    )
    assert result.exit_code == 2, "the update is a change; the adoption is not"
    assert "1 to update, 0 unchanged, 1 adopted, 0 unmanaged" in result.output
    assert (
        "**Adopted** (not in the baseline; will be managed; no change): `notion` (user)."
        in result.output
    )


def test_a_missing_baseline_adopts_every_unchanged_entry(app: FastAPI) -> None:
    result = invoke(app, "plan", "--baseline", "nowhere", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["summary"]["adopted"] == 2
    assert any("baseline nowhere does not exist" in w for w in document["warnings"])


def test_the_baseline_is_read_for_identities_only(tmp_path: Path) -> None:
    """Invalid entries, unknown keys and references are no problem: only names are read."""
    (tmp_path / "a.yaml").write_text(
        "version: 1\nintegrations:\n"
        "  - slug: github\n    client_secret: ${env:WORKOS_API_KEY}\n    bogus: 1\n"
        "  - slug: acme\n    ownership: organization\n"
        "  - slug: 3\n  - ownership: user\n  - slug: x\n    ownership: everyone\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text("integrations: [\n", encoding="utf-8")
    baseline = read_baseline([str(tmp_path)])
    assert baseline.identities == {("github", "user"), ("acme", "organization")}
    assert baseline.warnings == (
        f"baseline {tmp_path / 'b.yml'}: not valid YAML; left out of the baseline",
    )
