"""Secrets only where secrets go: ``${env:}``/``${file:}`` in client_secret only,
``${var:}`` for plain values, every name through the allowlist, and ``plan --no-secrets``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.app import create_app
from tests.support import invoke, run, writes

CANARY = "canary-value-Pz31-never-shown"


def _manifest(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nintegrations:\n" + body)
    return path


@pytest.mark.parametrize(
    "field",
    [
        "description: ${env:RECONCILER_GITHUB_SECRET}",
        "description: ${file:secret.txt}",
        "scopes: [repo, '${env:RECONCILER_GITHUB_SECRET}']",
        "config: {account: '${env:RECONCILER_GITHUB_SECRET}'}",
    ],
)
def test_a_secret_reference_outside_client_secret_is_refused_unread(
    tmp_path: Path, field: str
) -> None:
    (tmp_path / "secret.txt").write_text(CANARY)
    manifest = _manifest(tmp_path, f"  - slug: github\n    {field}\n")
    app = create_app()
    result = invoke(app, "plan", "-f", str(manifest), RECONCILER_GITHUB_SECRET=CANARY)
    assert result.exit_code == 1
    assert "are secrets: they resolve in credentials.client_secret only" in result.stderr
    assert "${var:NAME}" in result.stderr
    assert CANARY not in result.output
    assert writes(app) == 0


def test_plain_variables_resolve_and_print_like_literals(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    description: ${var:RECONCILER_VAR_STAGE}\n"
        "    credentials: {type: organization}\n"
        "  - slug: slack\n    description: ${var:RECONCILER_VAR_UNSET:-fallback text}\n"
        "    credentials: {type: organization}\n",
    )
    result = invoke(create_app(), "plan", "-f", str(manifest), RECONCILER_VAR_STAGE="staging-app")
    assert result.exit_code == 0, result.output
    assert '"staging-app"' in result.stdout
    assert '"fallback text"' in result.stdout


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("${var:RECONCILER_GITHUB_SECRET}", "references.vars: RECONCILER_VAR_*"),
        ("${var:WORKOS_API_KEY}", "is never resolvable"),
        ("${var:AWS_SECRET_ACCESS_KEY}", "references.vars: RECONCILER_VAR_*"),
    ],
)
def test_a_plain_variable_cannot_read_a_secret_by_default(
    tmp_path: Path, reference: str, message: str
) -> None:
    manifest = _manifest(tmp_path, f"  - slug: github\n    description: {reference}\n")
    result = invoke(
        None,
        "validate",
        "-f",
        str(manifest),
        RECONCILER_GITHUB_SECRET=CANARY,
        AWS_SECRET_ACCESS_KEY=CANARY,
    )
    assert result.exit_code == 1
    assert f"m.yaml:4:18: description: {reference} " in result.stderr
    assert message in result.stderr
    assert CANARY not in result.output


def test_a_variable_in_the_secret_field_is_refused(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
        "      client_secret: ${var:RECONCILER_VAR_X}\n",
    )
    result = invoke(None, "validate", "-f", str(manifest), RECONCILER_VAR_X=CANARY)
    assert result.exit_code == 1
    assert "client_secret: a ${var:} value is printed, never a secret" in result.stderr
    assert CANARY not in result.output


@pytest.mark.parametrize("name", ["1PASSWORD_TOKEN", "deploy-token", "RECONCILER_deploy-token"])
@pytest.mark.parametrize("is_set", [True, False])
def test_every_name_goes_through_the_allowlist_whatever_its_shape(
    tmp_path: Path, name: str, is_set: bool
) -> None:
    """An odd name is refused by the allowlist (or, allowed, as an invalid name), before any
    lookup: the answer is the same whether the variable is set or not."""
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
        f"      client_secret: ${{env:{name}}}\n",
    )
    env: dict[str, Any] = {name: CANARY} if is_set else {}
    result = invoke(None, "validate", "-f", str(manifest), **env)
    assert result.exit_code == 1
    if name.startswith("RECONCILER_"):
        expected = "is not a valid variable name"
    else:
        expected = "is not allowed by the default policy (references.env: RECONCILER_*)"
    assert f"client_secret: ${{env:{name}}} {expected}" in result.stderr
    assert "not set" not in result.stderr
    assert CANARY not in result.output


@pytest.mark.parametrize(
    "value",
    [
        "{key}",
        "prefix-{key}-suffix",
        "{upper}",
        "WORKOS_API_KEY={key}\nOTHER=1",
    ],
)
def test_a_secret_holding_the_api_key_is_refused(tmp_path: Path, value: str) -> None:
    key = "sk_test_emulator"
    secret = value.format(key=key, upper=key.upper())
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "app.env").write_text(secret)
    (tmp_path / "policy.yaml").write_text("version: 1\nreferences: {files: ['secrets/*']}\n")
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
        "      client_secret: ${file:secrets/app.env}\n",
    )
    result = invoke(
        None, "validate", "-f", str(manifest), "--policy", str(tmp_path / "policy.yaml")
    )
    assert result.exit_code == 1
    assert "the value contains the API key (WORKOS_API_KEY); refused" in result.stderr


def test_the_default_policy_reads_no_file_even_beside_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(CANARY)
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
        "      client_secret: ${file:secret.txt}\n",
    )
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 1
    assert "is not allowed by the default policy (references.files: no file" in result.stderr


@pytest.mark.parametrize("secret", ["short12", "x" * 4097])
def test_secret_size_is_bounded(tmp_path: Path, secret: str) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
        "      client_secret: ${env:RECONCILER_GITHUB_SECRET}\n",
    )
    result = invoke(None, "validate", "-f", str(manifest), RECONCILER_GITHUB_SECRET=secret)
    assert result.exit_code == 1
    assert "a client secret must be 8 to 4096 characters long; refused" in result.stderr


GITHUB_SEED = [
    {
        "provider": "github",
        "description": "old",
        "credentials": {"type": "custom", "client_id": "x", "client_secret": "remote-secret-1234"},
    }
]


def test_plan_without_secrets_needs_no_client_secret(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    description: new\n    credentials:\n      type: custom\n"
        "      client_id: y\n      client_secret: ${env:RECONCILER_UNSET_SECRET}\n"
        "  - slug: slack\n    credentials:\n      type: custom\n      client_id: s\n"
        "      client_secret: ${env:RECONCILER_OTHER_SECRET}\n",
    )
    app = create_app(seed=GITHUB_SEED)
    result = invoke(app, "plan", "-f", str(manifest), "--no-secrets", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "(not compared: checked at apply)" in result.stdout
    assert '"secrets_compared": false' in result.stdout
    assert "client secrets were not read (--no-secrets)" in result.stdout
    # without --no-secrets the same plan needs the variables
    refused = invoke(app, "plan", "-f", str(manifest))
    assert refused.exit_code == 1
    assert "environment variable RECONCILER_UNSET_SECRET is not set" in refused.stderr


def test_plan_without_secrets_still_checks_references_against_the_policy(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: y\n"
        "      client_secret: ${env:AWS_SECRET_ACCESS_KEY}\n",
    )
    result = invoke(create_app(), "plan", "-f", str(manifest), "--no-secrets")
    assert result.exit_code == 1
    assert "is not allowed by the default policy" in result.stderr


def test_a_review_without_secrets_is_never_executed(tmp_path: Path) -> None:
    from reconciler.errors import UnsafePlanError
    from reconciler.manifest import load
    from reconciler.workflow import execute, review
    from tests.support import client_for

    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    description: new\n    credentials:\n      type: custom\n"
        "      client_id: y\n      client_secret: ${env:RECONCILER_UNSET_SECRET}\n",
    )
    app = create_app(seed=GITHUB_SEED)
    desired = load([manifest], environ={}, resolve_secrets=False)

    async def attempt() -> None:
        async with client_for(app) as api:
            reviewed = await review(desired, api)
            assert reviewed.has_changes
            with pytest.raises(UnsafePlanError, match="made without secrets"):
                await execute(reviewed, api)

    run(attempt())
    assert writes(app) == 0


def test_a_literal_dollar_brace_is_written_doubled(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "  - slug: github\n    description: 'uses $${vault:k} and $${env:X} as text'\n"
        "    credentials: {type: organization}\n",
    )
    result = invoke(create_app(), "plan", "-f", str(manifest), "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"uses ${vault:k} and ${env:X} as text"' in result.stdout
