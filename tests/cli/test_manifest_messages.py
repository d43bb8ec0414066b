"""`validate` says what to do: entries settings.ignore hides (as plan words it), unknown
reference kinds, every problem at once (duplicates beside schema errors), x-* anchors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator.app import create_app
from tests.support import invoke, write_manifest

IGNORING = """\
version: 1
settings:
  ignore: ["legacy-*"]
integrations:
  - slug: legacy-crm
    credentials: {type: organization}
  - slug: slack
    credentials: {type: organization}
"""


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_validate_warns_about_ignored_entries_in_the_plans_words(
    tmp_path: Path, quiet: bool
) -> None:
    manifest = write_manifest(tmp_path, IGNORING)
    warning = f"{manifest}:5:5: legacy-crm (user) matches settings.ignore and is left alone"
    result = invoke(None, "validate", "-f", str(manifest), *(["-q"] if quiet else []))
    assert result.exit_code == 0, result.output
    assert f"Warning: {warning}\n" in result.stderr
    assert ("Valid: 2 integrations" in result.stdout) is not quiet

    planned = invoke(create_app(), "plan", "-f", str(manifest), "--format", "json")
    assert planned.exit_code == 0, planned.output
    assert warning in json.loads(planned.stdout)["warnings"]


def test_validate_without_ignored_entries_warns_nothing(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path, IGNORING.replace("legacy-*", "other-*").replace("legacy-crm", "github")
    )
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_validate_reports_every_problem_at_once(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n"
        "  - slug: github\n    credentials: {type: custom, client_id: x, "
        "client_secret: '${vault:kv/github}'}\n"
        "  - slug: github\n    scoeps: [repo]\n",
    )
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{manifest}:4:62: client_secret: unknown reference kind 'vault': "
        "use ${env:NAME} or ${file:path}",
        f"{manifest}:5:5: duplicate integration 'github' (ownership user); "
        f"first defined at {manifest}:3:5",
        f"{manifest}:6:5: unknown key 'scoeps' in integration; did you mean 'scopes'?",
        "Error: the manifest has 3 problems.",
    ]


def test_x_keys_hold_anchors(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nx-org: &org {type: organization}\nintegrations:\n"
        "  - slug: slack\n    credentials: *org\n  - slug: notion\n    credentials: *org\n",
    )
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    assert "Valid: 2 integrations in 1 file." in result.stdout
