"""Tests of the manifest loader's references: ${env:}, ${var:} and ${file:} secrets and
values, their defaults, the allowlist and the policy, and no resolved secret in a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load
from reconciler.policy import load_policy
from tests.support.loader import CORPUS_POLICY, ENVIRON, MANIFESTS, _files_policy, _problems

FILES_REFUSED = (
    "is not allowed by the default policy (references.files: no file; a policy file "
    "names the directories ${file:} may read)"
)


def test_file_secret_is_relative_to_the_manifest_and_stripped() -> None:
    desired = load([MANIFESTS / "valid" / "full.yaml"], policy=CORPUS_POLICY, environ=ENVIRON)
    snowflake = desired.integrations[2]
    assert snowflake.client_secret is not None
    assert snowflake.client_secret.reveal() == "snowflake-file-secret-4321"


@pytest.mark.parametrize("resolve_secrets", [True, False])
def test_a_file_secret_needs_a_policy_naming_its_directory(resolve_secrets: bool) -> None:
    """The default policy allows no ${file:}: a file beside the manifest (one a pull
    request could add) is refused at its value, and never read."""
    with pytest.raises(ManifestError) as caught:
        load(
            [MANIFESTS / "valid" / "full.yaml"],
            environ=ENVIRON,
            resolve_secrets=resolve_secrets,
        )
    assert [str(p) for p in caught.value.problems] == [
        "tests/manifests/valid/full.yaml:34:22: client_secret: "
        f"${{file:secrets/snowflake.txt}} {FILES_REFUSED}"
    ]
    assert "snowflake-file-secret" not in str(caught.value)


def test_secrets_come_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_GITHUB_CLIENT_SECRET", "from-os-environ")
    desired = load([MANIFESTS / "valid" / "full.yaml"], policy=CORPUS_POLICY)
    secret = desired.integrations[0].client_secret
    assert secret is not None and secret.reveal() == "from-os-environ"


def test_without_resolving_secrets_references_are_only_checked() -> None:
    desired = load(
        [MANIFESTS / "valid" / "full.yaml"],
        policy=CORPUS_POLICY,
        environ={},
        resolve_secrets=False,
    )
    assert all(entry.client_secret is None for entry in desired.integrations)
    assert desired.secrets_resolved is False
    literal = MANIFESTS / "invalid" / "literal-secret.yaml"
    with pytest.raises(ManifestError, match="must be a reference"):
        load([literal], environ={}, resolve_secrets=False)


def test_unreadable_secret_file_is_named_but_not_read_out(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(b"\xff\xfe-not-text")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: app\n      client_secret: ${file:secret.txt}\n"
    )
    (problem,) = _problems([manifest], policy=_files_policy(tmp_path, "*.txt"))
    assert (problem.line, problem.column) == (7, 22)
    assert problem.message == "client_secret: ${file:secret.txt}: the file is not UTF-8 text"


def test_messages_never_carry_a_resolved_secret(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    colour: red\n    credentials:\n"
        "      type: custom\n      client_id: app\n"
        "      client_secret: ${env:RECONCILER_GITHUB_CLIENT_SECRET}\n"
    )
    problems = _problems([manifest])
    assert ENVIRON["RECONCILER_GITHUB_CLIENT_SECRET"] not in str(ManifestError(problems))


REFERENCES = MANIFESTS / "valid" / "env-references.yaml"
REFERENCES_ENVIRON = {
    "RECONCILER_VAR_STAGE": "staging",
    "RECONCILER_VAR_EXTRA_SCOPE": "read:org",
    "RECONCILER_VAR_GITHUB_CLIENT_ID": "Iv1.staging",
    "RECONCILER_GITHUB_CLIENT_SECRET": "gh-secret-0001",
    "RECONCILER_VAR_SNOWFLAKE_ACCOUNT": "acme-staging",
}


def test_var_references_resolve_in_string_fields() -> None:
    desired = load([REFERENCES], environ=REFERENCES_ENVIRON)
    assert desired.settings.environment == "staging"
    assert desired.settings.ignore == ["legacy-*"]
    github, crm, snowflake = desired.integrations
    assert github.spec.description == "GitHub"
    assert github.spec.scopes == ["repo", "read:org"]
    assert github.spec.credentials is not None
    assert github.spec.credentials.client_id == "Iv1.staging"
    assert github.spec.credentials.client_secret == "${env:RECONCILER_GITHUB_CLIENT_SECRET}"
    assert github.client_secret is not None
    assert github.client_secret.reveal() == "gh-secret-0001"
    assert crm.identity == ("acme-crm", "organization")
    assert crm.managed("description") and crm.spec.description == ""
    assert snowflake.spec.config == {"account": "acme-staging"}
    assert crm.spec.custom_provider is not None
    assert crm.spec.custom_provider.token_url == "https://crm.acme.example/oauth/token"


def test_a_set_variable_wins_over_its_default() -> None:
    environ = {
        **REFERENCES_ENVIRON,
        "RECONCILER_VAR_GITHUB_DESCRIPTION": "GitHub (staging)",
        "RECONCILER_VAR_CRM_SLUG": "globex",
        "RECONCILER_VAR_CRM_OWNERSHIP": "user",
        "RECONCILER_VAR_CRM_DESCRIPTION": "Globex CRM",
    }
    github, crm, _ = load([REFERENCES], environ=environ).integrations
    assert github.spec.description == "GitHub (staging)"
    assert crm.identity == ("globex", "user")
    assert crm.spec.description == "Globex CRM"


def test_an_empty_variable_takes_the_default_as_in_the_shell() -> None:
    environ = {
        **REFERENCES_ENVIRON,
        "RECONCILER_VAR_GITHUB_DESCRIPTION": "",
        "RECONCILER_VAR_CRM_OWNERSHIP": "",
    }
    github, crm, _ = load([REFERENCES], environ=environ).integrations
    assert github.spec.description == "GitHub"
    assert crm.spec.ownership == "organization"


def test_every_unset_variable_is_reported_at_its_value() -> None:
    problems = _problems(
        [REFERENCES], environ={"RECONCILER_GITHUB_CLIENT_SECRET": "gh-secret-0001"}
    )
    file = str(REFERENCES)
    assert [str(p) for p in problems] == [
        f"{file}:5:16: environment: ${{var:RECONCILER_VAR_STAGE}}: "
        "environment variable RECONCILER_VAR_STAGE is not set",
        f"{file}:10:20: scopes[1]: ${{var:RECONCILER_VAR_EXTRA_SCOPE}}: "
        "environment variable RECONCILER_VAR_EXTRA_SCOPE is not set",
        f"{file}:13:18: client_id: ${{var:RECONCILER_VAR_GITHUB_CLIENT_ID}}: "
        "environment variable RECONCILER_VAR_GITHUB_CLIENT_ID is not set",
        f"{file}:26:16: config.account: ${{var:RECONCILER_VAR_SNOWFLAKE_ACCOUNT}}: "
        "environment variable RECONCILER_VAR_SNOWFLAKE_ACCOUNT is not set",
    ]


def test_without_secrets_set_references_resolve_and_unset_ones_stand_in() -> None:
    desired = load([REFERENCES], environ={"RECONCILER_VAR_STAGE": "staging"}, resolve_secrets=False)
    assert desired.settings.environment == "staging"
    github, _, snowflake = desired.integrations
    assert github.client_secret is None
    assert github.spec.credentials is not None
    assert github.spec.credentials.client_id == "${var:RECONCILER_VAR_GITHUB_CLIENT_ID}"
    assert github.spec.scopes == ["repo", "${var:RECONCILER_VAR_EXTRA_SCOPE}"]
    assert snowflake.spec.config == {"account": "${var:RECONCILER_VAR_SNOWFLAKE_ACCOUNT}"}


def test_without_secrets_an_unset_variable_is_reported_where_a_format_is_checked(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: ${var:RECONCILER_VAR_CRM_SLUG}\n"
        "    description: ${var:RECONCILER_VAR_CRM_DESCRIPTION}\n    custom_provider:\n"
        "      name: ${var:RECONCILER_VAR_CRM_NAME}\n"
        "      token_url: ${var:RECONCILER_VAR_CRM_TOKEN_URL}\n"
        "    credentials:\n      type: organization\n"
    )
    resolving = _problems([manifest], environ={})
    assert [(p.line, p.message.split(":")[0]) for p in resolving] == [
        (3, "slug"),
        (4, "description"),
        (6, "name"),
        (7, "token_url"),
    ]
    with pytest.raises(ManifestError) as caught:
        load([manifest], environ={}, resolve_secrets=False)
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (
            3,
            11,
            "slug: ${var:RECONCILER_VAR_CRM_SLUG}: "
            "environment variable RECONCILER_VAR_CRM_SLUG is not set, "
            "and slug cannot be checked without it",
        ),
        (
            7,
            18,
            "token_url: ${var:RECONCILER_VAR_CRM_TOKEN_URL}: "
            "environment variable RECONCILER_VAR_CRM_TOKEN_URL is not set, "
            "and token_url cannot be checked without it",
        ),
    ]


def test_a_secret_default_is_refused_without_resolving_secrets_and_never_echoed() -> None:
    manifest = MANIFESTS / "invalid" / "secret-env-default.yaml"
    with pytest.raises(ManifestError) as caught:
        load([manifest], environ={}, resolve_secrets=False)
    (problem,) = caught.value.problems
    assert "a default (:-) is not allowed" in problem.message
    assert "gh-hunter2-default" not in str(caught.value)


def test_a_referenced_value_is_checked_and_its_origin_named() -> None:
    problems = _problems([MANIFESTS / "invalid" / "env-reference-wrong-value.yaml"])
    assert [problem.message.rsplit(" (from ", 1)[1] for problem in problems] == [
        "${var:RECONCILER_VAR_SET})",
        "${var:RECONCILER_VAR_EMPTY})",
    ]


def test_every_variable_name_goes_through_the_allowlist_whatever_its_shape() -> None:
    file = MANIFESTS / "invalid" / "env-reference-bad-name.yaml"
    assert [str(p) for p in _problems([file], policy=load_policy(None))] == [
        f"{file}:6:18: description: ${{var:RECONCILER_VAR_1ST-STAGE}} is not a valid variable "
        "name (letters, digits and _, not starting with a digit)",
        f"{file}:8:18: description: ${{var:1ST-STAGE}} is not allowed by the default policy "
        "(references.vars: RECONCILER_VAR_*)",
    ]


SECRETS_ONLY = "references are secrets: they resolve in credentials.client_secret only"


def test_a_secret_reference_in_a_plain_field_is_refused_and_never_looked_up(
    tmp_path: Path,
) -> None:
    """``${env:}`` and ``${file:}`` resolve in client_secret only: anywhere else each is a
    problem at its value, and the variable's value or the file's text is never shown."""
    (tmp_path / "token.txt").write_text("canary-file-text-Qq11\n")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "settings:\n"
        "  environment: ${env:RECONCILER_SET_SECRET}\n"
        "integrations:\n"
        "  - slug: acme-crm\n"
        "    description: ${env:RECONCILER_SET_SECRET}\n"
        '    scopes: ["${env:RECONCILER_SET_SECRET}"]\n'
        "    config:\n"
        "      account: ${file:token.txt}\n"
        "    custom_provider:\n"
        "      name: Acme CRM\n"
        "      token_url: ${env:RECONCILER_SET_SECRET}\n"
        "    credentials:\n"
        "      type: custom\n"
        "      client_id: ${env:RECONCILER_SET_SECRET}\n"
        "      client_secret: ${env:RECONCILER_GITHUB_CLIENT_SECRET}\n"
    )
    # even a policy that allows the variable and the file as secrets
    with pytest.raises(ManifestError) as caught:
        load([manifest], policy=_files_policy(tmp_path, "*.txt"), environ=ENVIRON)
    hint = "a plain value may be ${var:NAME}"
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (3, 16, f"environment: ${{env:...}} {SECRETS_ONLY}; {hint}"),
        (6, 18, f"description: ${{env:...}} {SECRETS_ONLY}; {hint}"),
        (7, 14, f"scopes[0]: ${{env:...}} {SECRETS_ONLY}; {hint}"),
        (9, 16, f"config.account: ${{file:...}} {SECRETS_ONLY}; {hint}"),
        (12, 18, f"token_url: ${{env:...}} {SECRETS_ONLY}; {hint}"),
        (15, 18, f"client_id: ${{env:...}} {SECRETS_ONLY}; {hint}"),
    ]
    text = str(caught.value)
    assert ENVIRON["RECONCILER_SET_SECRET"] not in text
    assert "canary-file-text" not in text


def test_references_under_an_unknown_key_are_left_to_the_unknown_key_problem(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    colour: ${env:RECONCILER_UNSET}\n"
    )
    (problem,) = _problems([manifest], environ={})
    assert problem.message.startswith("unknown key 'colour' in integration")


def test_an_aliased_reference_is_reported_once(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n"
        "    description: &text ${var:RECONCILER_VAR_UNSET}\n"
        "  - slug: slack\n    description: *text\n"
    )
    (problem,) = _problems([manifest], environ={})
    assert (problem.line, problem.column) == (4, 18)
    assert "environment variable RECONCILER_VAR_UNSET is not set" in problem.message
