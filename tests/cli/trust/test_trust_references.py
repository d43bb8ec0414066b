"""The trust boundary, tried as a pull request's author would: references to the CI
environment and the API key. A plain field cannot print a CI variable, every name
goes through the allowlist, and no value read through a reference is ever echoed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from fastapi import FastAPI

from tests.support import invoke
from tests.support.trust import (
    CI_CANARY,
    GITHUB,
    KEY_CANARY,
    SECRET_CANARY,
    _canaries_absent,
    _cli,
    _manifest,
    _requests,
)


def _every_output(result: Result, directory: Path) -> list[str]:
    """stdout, stderr and every file the run left behind."""
    files = [p.read_text(errors="replace") for p in directory.rglob("*") if p.is_file()]
    return [result.stdout, result.stderr, *files]


# --- references the policy does not allow ------------------------------------------------


SECRETS_ONLY = (
    "references are secrets: they resolve in credentials.client_secret only; "
    "a plain value may be ${var:NAME}"
)


def _plain_field_refusal(reference: str) -> str:
    """What a plain field holding ``reference`` is told: a secret reference is never read
    there; a variable is judged by its name against references.vars."""
    if not reference.startswith("${var:"):
        return f"{reference.split(':')[0]}:...}} {SECRETS_ONLY}"
    name = reference.removeprefix("${var:").split(":")[0].rstrip("}")
    if name == "WORKOS_API_KEY":
        return f"{reference} is never resolvable: WORKOS_API_KEY is the API key"
    return f"{reference} is not allowed by the default policy (references.vars: RECONCILER_VAR_*)"


@pytest.mark.parametrize(
    "reference",
    [
        "${env:AWS_SECRET_ACCESS_KEY}",
        "${env:GITHUB_TOKEN}",
        "${env:AWS_SECRET_ACCESS_KEY:-fallback}",
        "${env:WORKOS_API_KEY}",
        "${env:RECONCILER_GITHUB_CLIENT_SECRET}",
        "${var:AWS_SECRET_ACCESS_KEY}",
        "${var:AWS_SECRET_ACCESS_KEY:-fallback}",
        "${var:WORKOS_API_KEY}",
        "${var:RECONCILER_GITHUB_CLIENT_SECRET}",
    ],
)
@pytest.mark.parametrize("command", ["plan", "markdown", "out", "validate", "no-secrets"])
def test_a_plain_field_cannot_print_a_ci_variable(
    app: FastAPI, workdir: Path, reference: str, command: str
) -> None:
    _manifest(f"  - slug: github\n    description: {reference}\n")
    summary = workdir / "summary.md"
    args = {
        "plan": ["plan"],
        "markdown": ["plan", "--format", "markdown"],
        "out": ["plan", "--out", "plan.json"],
        "validate": ["validate"],
        "no-secrets": ["validate", "--no-secrets"],
    }[command]
    result = _cli(app, *args, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 1, result.output
    expected = f"integrations.yaml:4:18: description: {_plain_field_refusal(reference)}"
    assert expected in result.stderr
    assert "::error file=integrations.yaml,line=4,col=18" in result.stderr
    assert not Path("plan.json").exists()
    _canaries_absent(*_every_output(result, workdir))
    assert _requests(app) == 0


@pytest.mark.parametrize("kind", ["env", "var"])
def test_the_refusal_is_the_same_whether_or_not_the_variable_is_set(
    app: FastAPI, kind: str
) -> None:
    _manifest(f"  - slug: github\n    description: ${{{kind}:AWS_SECRET_ACCESS_KEY}}\n")
    set_ = _cli(app, "plan")
    unset = _cli(app, "plan", AWS_SECRET_ACCESS_KEY="")
    del_env = invoke(app, "plan", WORKOS_API_KEY=KEY_CANARY)
    assert set_.exit_code == unset.exit_code == del_env.exit_code == 1
    assert set_.stderr == unset.stderr == del_env.stderr


@pytest.mark.parametrize(
    "name", ["AWS_SECRET_ACCESS_KEY", "1PASSWORD_TOKEN", "deploy-token", "RECONCILER-TOKEN"]
)
def test_every_secret_name_goes_through_the_allowlist_whatever_its_shape(
    app: FastAPI, name: str
) -> None:
    """A client_secret's variable is judged by the policy before any lookup, whatever its
    name looks like: set or unset, the answer is the same and nothing is sent."""
    _manifest(GITHUB.replace("RECONCILER_GITHUB_CLIENT_SECRET", name))
    set_ = _cli(app, "plan", **{name: SECRET_CANARY})
    unset = _cli(app, "plan")
    assert set_.exit_code == unset.exit_code == 1
    assert set_.stderr == unset.stderr
    assert (
        f"integrations.yaml:7:22: client_secret: ${{env:{name}}} is not allowed by the "
        "default policy (references.env: RECONCILER_*)" in set_.stderr
    )
    _canaries_absent(set_.stdout, set_.stderr)
    assert _requests(app) == 0


@pytest.mark.parametrize(
    "holding",
    [KEY_CANARY, f"WORKOS_API_KEY={KEY_CANARY}", f"prefix-{KEY_CANARY.upper()}-suffix"],
    ids=["equal", "contained", "upper-cased"],
)
@pytest.mark.parametrize("field", ["client_secret", "client_id"])
def test_the_api_key_is_never_a_client_secret_or_field(
    app: FastAPI, field: str, holding: str
) -> None:
    """Even under a policy that allows every variable, WORKOS_API_KEY is not resolvable,
    and a variable holding the key (whole, inside, in any case) is refused whatever its
    name: as a secret (${env:}) or as a plain value (${var:})."""
    Path("policy.yaml").write_text("version: 1\nreferences:\n  env: ['*']\n  vars: ['*']\n")
    for variable in ("WORKOS_API_KEY", "RECONCILER_INNOCENT"):
        secret = "${env:RECONCILER_GITHUB_CLIENT_SECRET}"
        client_id = "Iv1.abc"
        if field == "client_secret":
            secret = f"${{env:{variable}}}"
        else:
            client_id = f"${{var:{variable}}}"
        _manifest(
            "  - slug: github\n    credentials:\n      type: custom\n"
            f"      client_id: {client_id}\n      client_secret: {secret}\n"
        )
        result = _cli(app, "plan", "--policy", "policy.yaml", RECONCILER_INNOCENT=holding)
        assert result.exit_code == 1, result.output
        if variable == "WORKOS_API_KEY":
            assert "is never resolvable: WORKOS_API_KEY is the API key" in result.stderr
        else:
            assert "the value contains the API key (WORKOS_API_KEY); refused" in result.stderr
        _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("${env:WORKOS_API_KEY}", f"environment: ${{env:...}} {SECRETS_ONLY}"),
        ("${var:WORKOS_API_KEY}", "environment: ${var:WORKOS_API_KEY} is never resolvable"),
    ],
)
def test_a_custom_environment_guard_cannot_print_the_key(
    app: FastAPI, reference: str, expected: str
) -> None:
    Path("integrations.yaml").write_text(
        f"version: 1\nsettings:\n  environment: {reference}\nintegrations: []\n"
    )
    result = _cli(app, "plan", "--environment", "production")
    assert result.exit_code == 1
    assert f"integrations.yaml:3:16: {expected}" in result.stderr
    _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


def test_a_value_read_through_a_reference_is_never_echoed_in_an_error(app: FastAPI) -> None:
    """An allowed variable with a wrong value: the error names the reference, not the value,
    in the message and in the GitHub annotation alike."""
    _manifest("  - slug: ${var:RECONCILER_VAR_SLUG}\n    ownership: ${var:RECONCILER_VAR_OWNER}\n")
    result = _cli(
        app,
        "plan",
        GITHUB_ACTIONS="true",
        RECONCILER_VAR_SLUG="Not A Slug " + CI_CANARY,
        RECONCILER_VAR_OWNER=CI_CANARY,
    )
    assert result.exit_code == 1
    assert (
        "integrations.yaml:3:11: slug: a string is not a valid slug; use 1 to 64 lowercase "
        "letters, digits, '-' or '_', starting and ending with a letter or digit "
        "(from ${var:RECONCILER_VAR_SLUG})" in result.stderr
    )
    assert (
        "integrations.yaml:4:16: ownership: expected 'user' or 'organization', got a string "
        "(from ${var:RECONCILER_VAR_OWNER})" in result.stderr
    )
    assert "::error file=integrations.yaml,line=3,col=11" in result.stderr
    _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


PLAIN_VALUE = "plain-description-from-ci-Mn34"


def test_plain_variables_are_printed_like_literals_in_every_format(
    app: FastAPI, workdir: Path
) -> None:
    """A ${var:} value is no secret: it is sent and shown as written in the plan, the
    Markdown, the step summary and the saved plan (never redacted, so the output can't
    depend on it being one), while the client secret beside it shows its last 4 only;
    the saved plan still applies."""
    _manifest(GITHUB + "    description: ${var:RECONCILER_VAR_DESCRIPTION}\n")
    summary = workdir / "summary.md"
    env = {
        "RECONCILER_VAR_DESCRIPTION": PLAIN_VALUE,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    outputs = []
    for output_format in ("text", "json", "markdown"):
        result = _cli(app, "plan", "--format", output_format, "--out", "plan.json", **env)
        assert result.exit_code == 0, result.output
        assert PLAIN_VALUE in result.stdout
        assert "(redacted)" not in result.output
        outputs += _every_output(result, workdir)
    assert PLAIN_VALUE in summary.read_text()
    _canaries_absent(*outputs)
    applied = _cli(app, "apply", "--plan", "plan.json", **env)
    assert applied.exit_code == 0, applied.output
    _canaries_absent(applied.stdout, applied.stderr)
    again = _cli(app, "plan", "--detailed-exitcode", **env)
    assert again.exit_code == 0, again.output


def test_a_manifest_quoting_the_api_key_gets_the_same_answer_whatever_the_key(
    app: FastAPI,
) -> None:
    """A manifest's own text is shown as written, whether or not it equals the API key:
    an output filter that hid it would tell a pull request that its guess is right."""
    Path("integrations.yaml").write_text(f"version: 1\n{KEY_CANARY}: 1\n")
    results = [
        _cli(app, "validate", WORKOS_API_KEY=key) for key in (KEY_CANARY, "sk_test_anotherKey9")
    ]
    assert all(result.exit_code == 1 for result in results)
    assert results[0].stderr == results[1].stderr
    assert f"unknown key '{KEY_CANARY}'" in results[0].stderr
