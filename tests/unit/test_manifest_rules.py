"""Manifest rules that say what to do: unknown reference kinds named as such, the checks
across entries run even when some entries have problems of their own ("every problem at
once"), top-level ``x-*`` extension fields ignored, and the ignored-entry warnings that
``validate`` shows in the planner's words."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reconciler.errors import ConfigError, ManifestError
from reconciler.manifest import load
from reconciler.manifest.checks import ignored_warnings
from reconciler.manifest.files import default_manifests
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.schema import manifest_schema
from tests.support import write_manifest

ENVIRON = {"RECONCILER_SECRET": "s3cr3t-value-1234"}


def _problems(path: Path, policy: Policy = DEFAULT_POLICY) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load([path], environ=ENVIRON, policy=policy)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


# -- unknown reference kinds ----------------------------------------------------------------


def test_an_unknown_reference_kind_in_a_secret_gets_its_own_message(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: Iv1.abc\n      client_secret: ${vault:kv/github}\n",
    )
    assert _problems(manifest) == [
        "7:22: client_secret: unknown reference kind 'vault': use ${env:NAME} or ${file:path}"
    ]


def test_an_unknown_reference_kind_in_a_plain_field_is_no_longer_taken_literally(
    tmp_path: Path,
) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: slack\n    description: ${ssm:/slack/description}\n"
        "    credentials: {type: organization}\n",
    )
    assert _problems(manifest) == [
        "4:18: description: unknown reference kind 'ssm'; a plain value may be ${var:NAME}"
    ]


def test_a_variable_in_the_secret_field_is_refused_as_never_a_secret(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: Iv1.abc\n      client_secret: ${var:RECONCILER_VAR_SECRET}\n",
    )
    assert _problems(manifest) == [
        "7:22: client_secret: a ${var:} value is printed, never a secret: "
        "use ${env:NAME} or ${file:path}"
    ]


def test_a_literal_secret_keeps_its_message(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: Iv1.abc\n      client_secret: hunter2-literal\n",
    )
    problems = _problems(manifest)
    assert len(problems) == 1
    assert "client_secret must be a reference, not a literal" in problems[0]
    assert "hunter2" not in problems[0]


# -- the checks across entries see entries with problems too --------------------------------


def test_a_duplicate_is_reported_with_the_entrys_other_problem(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: github\n    scopes: [repo]\n"
        "  - slug: github\n    scoeps: [repo]\n",
    )
    assert _problems(manifest) == [
        f"5:5: duplicate integration 'github' (ownership user); first defined at {manifest}:3:5",
        "6:5: unknown key 'scoeps' in integration; did you mean 'scopes'?",
    ]


def test_a_duplicate_across_files_is_reported_when_the_first_has_problems(
    tmp_path: Path,
) -> None:
    first = write_manifest(
        tmp_path, "version: 1\nintegrations:\n  - slug: slack\n    enabled: 'true'\n", "a.yaml"
    )
    write_manifest(tmp_path, "version: 1\nintegrations:\n  - slug: slack\n", "b.yaml")
    with pytest.raises(ManifestError) as caught:
        load([tmp_path], environ=ENVIRON)
    messages = [p.message for p in caught.value.problems]
    assert "enabled: expected true or false, got the string 'true'; remove the quotes" in messages
    assert f"duplicate integration 'slack' (ownership user); first defined at {first}:3:5" in (
        messages
    )


def test_a_shared_definition_conflict_is_reported_with_other_problems(tmp_path: Path) -> None:
    provider = "authorization_url: https://a.example/a, token_url: https://a.example/t"
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n"
        f"  - slug: acme\n    custom_provider: {{name: Acme, {provider}}}\n"
        "  - slug: acme\n    ownership: organization\n    enabled: 1\n"
        f"    custom_provider: {{name: Other, {provider}}}\n",
    )
    problems = _problems(manifest)
    assert problems[0] == "7:14: enabled: expected true or false, got 1"
    assert problems[1].startswith("8:5: custom_provider of 'acme' differs in name from the one at")
    assert len(problems) == 2


def test_a_policy_refused_url_is_reported_with_other_problems(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: acme\n    enabled: nope\n    custom_provider:\n"
        "      name: Acme\n      authorization_url: https://evil.example/a\n"
        "      token_url: https://evil.example/t\n",
    )
    policy = Policy(url_patterns=("https://*.acme.example/*",))
    problems = _problems(manifest, policy)
    assert problems[0].startswith("4:14: enabled: expected true or false")
    assert [p.split(":")[2].strip() for p in problems[1:]] == [
        "custom_provider.authorization_url",
        "custom_provider.token_url",
    ]


def test_an_entry_whose_identity_is_unknown_makes_no_false_duplicate(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: notion\n    ownership: organisation\n"
        "  - slug: notion\n  - slug: Notion\n  - slug: Notion\n",
    )
    problems = _problems(manifest)
    assert not [p for p in problems if "duplicate" in p], problems
    assert len(problems) == 3


# -- x-* extension fields --------------------------------------------------------------------

ANCHORED = """\
version: 1
x-defaults: &defaults
  enabled: true
  credentials: {type: organization}
x-notes: anything at all, ${vault:not-read}
integrations:
  - slug: slack
    <<: *defaults
  - slug: notion
    <<: *defaults
    description: Notion
"""


def test_top_level_x_keys_hold_anchors_and_are_ignored(tmp_path: Path) -> None:
    desired = load([write_manifest(tmp_path, ANCHORED)], environ=ENVIRON)
    assert [(i.spec.slug, i.spec.enabled) for i in desired.integrations] == [
        ("slack", True),
        ("notion", True),
    ]
    assert desired.integrations[1].spec.description == "Notion"


def test_x_keys_are_extension_fields_at_top_level_only(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nextra: 1\nintegrations:\n  - slug: slack\n    x-note: 1\n",
    )
    assert _problems(manifest) == [
        "2:1: unknown key 'extra' at top level; expected one of: integrations, settings, "
        "version (or an extension field, x-..., which is ignored)",
        "5:5: unknown key 'x-note' in integration; expected one of: auth_methods, config, "
        "credentials, custom_provider, description, enabled, ownership, protect, scopes, slug",
    ]


def test_the_json_schema_allows_x_keys_at_top_level() -> None:
    validator = jsonschema.Draft202012Validator(manifest_schema())
    assert not list(validator.iter_errors({"version": 1, "x-anchors": {"a": [1]}}))
    assert list(validator.iter_errors({"version": 1, "extra": 1}))
    committed = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"
    assert json.loads(committed.read_text())["patternProperties"] == {
        "^x-": {"description": "Extension field: ignored (e.g. to hold YAML anchors)."}
    }


# -- ignored entries: the planner's words, without planning ----------------------------------


def test_ignored_warnings_are_the_planners_words(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nsettings: {ignore: ['legacy-*']}\nintegrations:\n"
        "  - slug: legacy-crm\n    credentials: {type: organization}\n"
        "  - slug: slack\n    credentials: {type: organization}\n",
    )
    desired = load([manifest], environ=ENVIRON)
    warnings = ignored_warnings(desired)
    assert warnings == [
        f"{manifest}:4:5: legacy-crm (user) matches settings.ignore and is left alone"
    ]
    assert [w for w in plan(desired, []).warnings if "settings.ignore" in w] == warnings


# -- the default manifests -------------------------------------------------------------------


def test_default_manifests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"neither integrations\.yaml nor an integrations/"):
        default_manifests(tmp_path)
    (tmp_path / "integrations").mkdir()
    assert default_manifests(tmp_path) == [str(tmp_path / "integrations")]
    (tmp_path / "integrations.yaml").write_text("version: 1\n")
    assert default_manifests(tmp_path) == [str(tmp_path / "integrations.yaml")]
