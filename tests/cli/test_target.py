"""Subsets: ``plan`` and ``apply --target SLUG[/OWNERSHIP]``.

Only selected integrations are acted on (prune included), the plan says it is
partial and lists what it skips, the delete threshold keeps the whole plan's
denominator, a pattern that selects nothing is an error, and a saved plan
keeps its targets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import REPO_ROOT, custom_body, invoke, run, stats

PLAN_SCHEMA = json.loads((REPO_ROOT / "schemas" / "plan.schema.json").read_text())
MANIFEST = """\
version: 1
settings:
  prune: true
integrations:
  - slug: slack
    description: chat
    credentials: {type: organization}
  - slug: notion
    description: docs
    credentials: {type: organization}
"""
SEED = [
    {"provider": "slack", "ownership": "user", "credentials": {"type": "organization"}},
    {"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}},
    custom_body("crm-a"),
    custom_body("crm-b"),
]


@pytest.fixture
def manifest_text() -> str:
    return MANIFEST


def _plan(app: FastAPI, manifest: Path, *args: str) -> Any:
    result = invoke(app, "plan", "-f", str(manifest), "--format", "json", "--force", *args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, PLAN_SCHEMA)
    return document


def _acted(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["action"], c["slug"]) for c in document["changes"]]


def test_a_target_acts_on_its_integration_only_and_lists_what_it_skips(manifest: Path) -> None:
    app = create_app(seed=SEED)
    whole = _plan(app, manifest)
    assert "targeting" not in whole
    assert sorted(_acted(whole)) == [
        ("delete", "crm-a"),
        ("delete", "crm-b"),
        ("update", "notion"),
        ("update", "slack"),
    ]

    partial = _plan(app, manifest, "--target", "slack")
    assert _acted(partial) == [("update", "slack")]
    assert partial["targeting"] == {
        "patterns": ["slack"],
        "skipped": [
            {"slug": "crm-a", "ownership": "user"},
            {"slug": "crm-b", "ownership": "user"},
            {"slug": "notion", "ownership": "user"},
        ],
    }
    assert partial["summary"]["update"] == 1 and partial["summary"]["delete"] == 0

    text = invoke(app, "plan", "-f", str(manifest), "--force", "--target", "slack").stdout
    assert "Partial plan (--target slack): only the integrations it selects are changed." in text
    assert "3 integrations (crm-a (user), crm-b (user), notion (user))" in text
    markdown = invoke(
        app, "plan", "-f", str(manifest), "--force", "--target", "slack", "--format", "markdown"
    ).stdout
    assert "> [!NOTE]\n> Partial plan (--target slack)" in markdown


def test_prune_deletes_only_targeted_integrations_and_apply_does_only_that(
    manifest: Path,
) -> None:
    app = create_app(seed=SEED)
    partial = _plan(app, manifest, "--target", "crm-a")
    assert _acted(partial) == [("delete", "crm-a")]
    applied = invoke(app, "apply", "-f", str(manifest), "--yes", "--force", "--target", "crm-a")
    assert applied.exit_code == 0, applied.output
    assert run(stats(app))["by_method"]["DELETE"] == 1
    assert run(stats(app))["by_method"]["PUT"] == 0
    remaining = _plan(app, manifest)
    assert sorted(_acted(remaining)) == [
        ("delete", "crm-b"),
        ("update", "notion"),
        ("update", "slack"),
    ]


def test_globs_and_ownership_select(manifest: Path) -> None:
    app = create_app(seed=SEED)
    assert sorted(_acted(_plan(app, manifest, "--target", "crm-*"))) == [
        ("delete", "crm-a"),
        ("delete", "crm-b"),
    ]
    assert _acted(_plan(app, manifest, "--target", "crm-*/user", "--target", "slack/user")) == [
        ("delete", "crm-a"),
        ("delete", "crm-b"),
        ("update", "slack"),
    ]


def test_the_threshold_counts_targeted_deletes_over_the_whole_managed_count(
    tmp_path: Path,
) -> None:
    seed = [custom_body(f"crm-{i:02}") for i in range(10)]
    manifest = tmp_path / "integrations.yaml"
    kept = "".join(f"  - slug: crm-{i:02}\n    custom_provider: {{}}\n" for i in range(6))
    manifest.write_text(f"version: 1\nsettings:\n  prune: true\nintegrations:\n{kept}")
    app = create_app(seed=seed)
    # the whole plan deletes 4 of 10 (over 0.3): refused
    assert invoke(app, "plan", "-f", str(manifest)).exit_code == 3
    # 2 targeted deletes over the whole 10 managed: 20%, allowed
    two = invoke(app, "plan", "-f", str(manifest), "--target", "crm-0[67]")
    assert two.exit_code == 0, two.output
    # all 4 targeted: 4 of 10, refused as the whole is (not 4 of 4)
    four = invoke(app, "plan", "-f", str(manifest), "--target", "crm-0[6-9]")
    assert four.exit_code == 3
    assert "deletes or replaces 4 of 10 managed integrations" in four.stderr


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("github", "--target 'github' matches no integration in the manifest or the remote"),
        ("slack/team", "--target 'slack/team': ownership must be user or organization"),
        ("/user", "--target '/user': expected SLUG or SLUG/OWNERSHIP"),
    ],
)
def test_a_pattern_that_selects_nothing_is_an_error(
    manifest: Path, pattern: str, message: str
) -> None:
    app = create_app(seed=SEED)
    result = invoke(app, "plan", "-f", str(manifest), "--target", pattern)
    assert result.exit_code == 1
    assert message in result.stderr
    assert run(stats(app))["by_method"]["PUT"] == 0


def test_a_shared_definition_travels_with_the_targeted_ownership(tmp_path: Path) -> None:
    """The definition change goes with the selected action, not the skipped sibling."""
    app = create_app(seed=[custom_body("crm"), custom_body("crm", "organization")])
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n"
        "  - slug: crm\n    custom_provider: {name: New CRM}\n"
        "  - slug: crm\n    ownership: organization\n    custom_provider: {name: New CRM}\n"
    )
    partial = _plan(app, manifest, "--target", "crm/organization")
    (change,) = partial["changes"]
    assert (change["action"], change["ownership"]) == ("update", "organization")
    assert [f["path"] for f in change["fields"]] == ["custom_provider.name"]
    assert partial["targeting"]["skipped"] == []  # the user side has nothing left to do
    assert (
        invoke(app, "apply", "-f", str(manifest), "--yes", "--target", "crm/organization").exit_code
        == 0
    )
    assert _plan(app, manifest)["changes"] == []


def test_a_saved_plan_keeps_its_targets_and_refuses_new_ones(
    manifest: Path, tmp_path: Path
) -> None:
    app = create_app(seed=SEED)
    out = tmp_path / "plan.json"
    made = invoke(
        app, "plan", "-f", str(manifest), "--force", "--target", "notion", "--out", str(out)
    )
    assert made.exit_code == 0, made.output
    assert json.loads(out.read_text())["targets"] == ["notion"]
    refused = invoke(app, "apply", "--plan", str(out), "--target", "slack", "-f", str(manifest))
    assert refused.exit_code == 1
    assert "--target can't be used with a saved plan" in refused.stderr
    applied = invoke(app, "apply", "--plan", str(out), "-f", str(manifest), "--force")
    assert applied.exit_code == 0, applied.output
    assert run(stats(app))["by_method"]["PUT"] == 1  # notion only
    assert ("update", "notion") not in _acted(_plan(app, manifest))
