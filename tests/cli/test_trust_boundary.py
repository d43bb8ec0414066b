"""The trust boundary, tried as a pull request's author would.

A manifest comes from whoever can open a pull request; the process holds the
API key, the client secrets and the whole CI environment. Each test is one
attack: it must end in a clear refusal (exit 1, or 3 for rails and stale
plans), with no canary value in any output or file, and no request sent
where the manifest was refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from reconciler.manifest import load
from tests.support import invoke, run, stats

CI_CANARY = "AKIAcanaryCIvalue-9f3Kq2LmZ"  # e.g. AWS_SECRET_ACCESS_KEY of the runner
SECRET_CANARY = "canary-client-secret-7Yh2Pq"
KEY_CANARY = "sk_test_canaryApiKeyZ81w5"
SEED: list[dict[str, Any]] = [
    {"provider": "slack", "ownership": "user", "credentials": {"type": "organization"}},
]
CANARY_ENV = {
    "AWS_SECRET_ACCESS_KEY": CI_CANARY,
    "GITHUB_TOKEN": CI_CANARY,
    "RECONCILER_GITHUB_CLIENT_SECRET": SECRET_CANARY,
    "WORKOS_API_KEY": KEY_CANARY,
}


@pytest.fixture
def app() -> FastAPI:
    return create_app(api_key=KEY_CANARY, seed=SEED)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    return repo


def _by_method(app: FastAPI, key: str = KEY_CANARY) -> dict[str, int]:
    """The emulator's request counts (its control route needs the app's own key)."""
    counts: dict[str, int] = run(stats(app, api_key=key))["by_method"]
    return counts


def _requests(app: FastAPI) -> int:
    return sum(_by_method(app).values())


def _canaries_absent(*texts: str) -> None:
    for text in texts:
        for canary in (CI_CANARY, SECRET_CANARY, KEY_CANARY, KEY_CANARY.removeprefix("sk_test_")):
            assert canary not in text
            assert canary.lower() not in text.lower()
            assert base64.b64encode(canary.encode()).decode()[:12] not in text


def _cli(app: FastAPI | None, *args: str, **env: str) -> Result:
    environment: dict[str, Any] = {**CANARY_ENV, **env}
    return invoke(app, *args, **environment)


def _every_output(result: Result, directory: Path) -> list[str]:
    """stdout, stderr and every file the run left behind."""
    files = [p.read_text(errors="replace") for p in directory.rglob("*") if p.is_file()]
    return [result.stdout, result.stderr, *files]


def _manifest(body: str, name: str = "integrations.yaml") -> Path:
    path = Path(name)
    path.write_text("version: 1\nintegrations:\n" + body)
    return path


GITHUB = """\
  - slug: github
    credentials:
      type: custom
      client_id: Iv1.abc
      client_secret: ${env:RECONCILER_GITHUB_CLIENT_SECRET}
"""


# --- references the policy does not allow ------------------------------------------------


SECRETS_ONLY = (
    "references are secrets: they resolve in credentials.client_secret only; "
    "a plain value may be ${var:NAME}"
)
FILES_REFUSED = (
    "is not allowed by the default policy (references.files: no file; a policy file "
    "names the directories ${file:} may read)"
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


# --- ${file:} -------------------------------------------------------------------------------


def _secret_file_manifest(target: str) -> None:
    _manifest(
        "  - slug: github\n    credentials:\n      type: custom\n      client_id: Iv1.abc\n"
        f"      client_secret: ${{file:{target}}}\n"
    )


SECRETS_POLICY = "version: 1\nreferences:\n  files: ['../secrets/*.txt']\n"


@pytest.mark.parametrize("policy", ["default", "secrets-root"])
def test_file_references_outside_the_policy_roots_are_refused_alike(
    app: FastAPI, workdir: Path, tmp_path: Path, policy: str
) -> None:
    """An existing file and a missing one outside the roots, a symlink out of them, and
    /proc/self/environ: one message each, the same but for the path as written. The
    default policy has no root at all: a file beside the manifest is refused alike."""
    outside = tmp_path / "outside-secret.txt"
    outside.write_text(CI_CANARY)
    Path("secrets").mkdir()
    Path("ci").mkdir()
    Path("ci/policy.yaml").write_text(SECRETS_POLICY)
    Path("secrets/link.txt").symlink_to(outside)
    Path("secrets/dangling.txt").symlink_to(tmp_path / "does-not-exist.txt")
    Path("beside.txt").write_text(CI_CANARY)
    Path("secrets/github.txt").write_text(CI_CANARY)
    targets = [
        "../outside-secret.txt",
        "../does-not-exist.txt",
        "secrets/link.txt",
        "secrets/dangling.txt",
        "/proc/self/environ",
        "../../../../etc/shadow",
        "beside.txt",
    ]
    args = ["plan"]
    if policy == "default":
        targets.append("secrets/github.txt")  # inside the tree: no root either
        refusal = FILES_REFUSED
    else:
        args += ["--policy", "ci/policy.yaml"]
        refusal = (
            "is not allowed by policy ci/policy.yaml (references.files: ../secrets/*.txt, "
            "relative to the policy file)"
        )
    messages = {}
    for target in targets:
        _secret_file_manifest(target)
        result = _cli(app, *args)
        assert result.exit_code == 1, result.output
        _canaries_absent(result.stdout, result.stderr)
        messages[target] = result.stderr.replace(target, "PATH")
    assert len(set(messages.values())) == 1, messages
    (message,) = set(messages.values())
    assert f"integrations.yaml:7:22: client_secret: ${{file:PATH}} {refusal}" in message
    assert _requests(app) == 0


def test_a_file_inside_the_tree_is_read_only_under_a_policy_naming_it(app: FastAPI) -> None:
    """A file a pull request can add beside its manifest is no secret: the default policy
    refuses it before reading; a policy naming its directory lets it be read."""
    Path("secrets").mkdir()
    Path("secrets/github.txt").write_text(SECRET_CANARY + "\n")
    Path("ci").mkdir()
    Path("ci/policy.yaml").write_text(SECRETS_POLICY)
    _secret_file_manifest("secrets/github.txt")
    refused = _cli(app, "apply", "--yes")
    assert refused.exit_code == 1, refused.output
    assert (
        f"integrations.yaml:7:22: client_secret: ${{file:secrets/github.txt}} {FILES_REFUSED}"
        in refused.stderr
    )
    _canaries_absent(refused.stdout, refused.stderr)
    assert _requests(app) == 0
    result = _cli(app, "apply", "--yes", "--policy", "ci/policy.yaml")
    assert result.exit_code == 0, result.output
    _canaries_absent(result.stdout, result.stderr)


def test_a_policy_decides_the_file_roots(app: FastAPI, workdir: Path) -> None:
    (workdir / "ci").mkdir()
    (workdir / "vault").mkdir()
    (workdir / "vault" / "github.txt").write_text(SECRET_CANARY)
    (workdir / "manifests").mkdir()
    Path("ci/policy.yaml").write_text("version: 1\nreferences:\n  files: ['../vault/*.txt']\n")
    Path("manifests/integrations.yaml").write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: Iv1.abc\n      client_secret: ${file:../vault/github.txt}\n"
    )
    allowed = _cli(app, "plan", "-f", "manifests", "--policy", "ci/policy.yaml")
    assert allowed.exit_code == 0, allowed.output
    assert "Policy:    policy ci/policy.yaml" in allowed.stdout
    default = _cli(app, "plan", "-f", "manifests")
    assert default.exit_code == 1
    assert "is not allowed by the default policy" in default.stderr


# --- manifests themselves ------------------------------------------------------------------


def test_a_manifest_symlinked_out_of_its_tree_is_not_read(
    app: FastAPI, workdir: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "credentials"
    secret.write_text(f"{CI_CANARY}\n")
    Path("integrations.yaml").symlink_to(secret)
    (workdir / "dir").mkdir()
    Path("dir/linked.yaml").symlink_to(secret)
    cases = {
        ("validate",): "integrations.yaml: outside the working directory; refused",
        ("plan",): "integrations.yaml: outside the working directory; refused",
        ("validate", "-f", "dir"): "dir/linked.yaml: a symlink to a file outside its directory",
        ("validate", "-f", f"{workdir}/dir"): "a symlink to a file outside its directory",
    }
    for args, message in cases.items():
        result = _cli(app, *args)
        assert result.exit_code == 1
        assert message in result.stderr
        assert str(tmp_path / "credentials") not in result.stderr
        _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


def _outside_manifests(tmp_path: Path) -> Path:
    """A directory outside the checkout whose manifests would quote the canary."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "integrations.yaml").write_text(
        f"version: 1\nintegrations:\n  - slug: github\n    {CI_CANARY}: 1\n"
    )
    return outside


def test_a_symlinked_manifest_directory_is_not_followed_out_of_the_tree(
    app: FastAPI, workdir: Path, tmp_path: Path
) -> None:
    Path("integrations").symlink_to(_outside_manifests(tmp_path))
    Path("manifests/prod").mkdir(parents=True)
    (workdir / "manifests" / "prod" / "ok.yaml").write_text("version: 1\nintegrations: []\n")
    Path("manifests/shared").symlink_to(tmp_path / "elsewhere")
    cases = {
        ("validate",): "integrations: outside the working directory; refused",
        ("validate", "-f", "integrations"): "integrations: outside the working directory",
        ("plan", "-f", "manifests"): "manifests/shared: a symlink to a file outside its directory",
        ("validate", "-f", "../elsewhere"): "../elsewhere: outside the working directory",
        ("validate", "-f", "../elsewhere/integrations.yaml"): "outside the working directory",
        ("validate", "-f", "manifests/../../elsewhere"): "outside the working directory",
    }
    for args, message in cases.items():
        result = _cli(app, *args)
        assert result.exit_code == 1, args
        assert message in result.stderr, (args, result.stderr)
        _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


def test_symlinks_that_stay_inside_the_tree_are_read(app: FastAPI, workdir: Path) -> None:
    Path("manifests/real").mkdir(parents=True)
    Path("manifests/real/ok.yaml").write_text("version: 1\nintegrations: []\n")
    Path("manifests/same").symlink_to(workdir / "manifests" / "real")
    Path("manifests/loop").symlink_to(workdir / "manifests")
    Path("integrations.yaml").symlink_to("manifests/real/ok.yaml")
    for args in (["validate"], ["validate", "-f", "manifests"]):
        result = _cli(app, *args)
        assert result.exit_code == 0, result.output
    # a directory reached twice (through a symlink inside the tree, or a loop) is read once
    assert load(["manifests"]).files == ("manifests/real/ok.yaml",)


def test_a_manifest_that_is_not_a_mapping_is_never_quoted(app: FastAPI) -> None:
    Path("integrations.yaml").write_text(f"{CI_CANARY} and more\n")
    result = _cli(app, "validate")
    assert result.exit_code == 1
    assert "a manifest must be a mapping with version: 1, not a string" in result.stderr
    _canaries_absent(result.stdout, result.stderr)


def test_version_must_be_the_integer_one() -> None:
    Path("integrations.yaml").write_text("version: true\nintegrations: []\n")
    result = invoke(None, "validate")
    assert result.exit_code == 1
    assert "integrations.yaml:1:10: unsupported manifest version true" in result.stderr


# --- custom providers ----------------------------------------------------------------------


def test_custom_provider_urls_go_only_where_the_policy_allows(app: FastAPI) -> None:
    Path("policy.yaml").write_text(
        "version: 1\ncustom_provider_urls: ['https://*.acme.example/oauth/*']\n"
    )
    manifest = (
        "  - slug: acme-crm\n    custom_provider:\n      name: Acme\n"
        "      authorization_url: https://crm.acme.example/oauth/authorize\n"
        "      token_url: {token}\n    credentials:\n      type: organization\n"
    )
    for token in (
        "https://attacker.example/oauth/token",
        "https://crm.acme.example.attacker.example/oauth/token",
        "https://crm.acme.example@attacker.example/oauth/token",
        "https://a.b.acme.example/oauth/token",
        "https://crm.acme.example:8443/oauth/token",
        "https://crm.acme.example/other/token",
    ):
        _manifest(manifest.format(token=token))
        result = _cli(app, "plan", "--policy", "policy.yaml")
        assert result.exit_code == 1, (token, result.output)
        assert (
            "integrations.yaml:7:18: custom_provider.token_url: this URL is not allowed by "
            "policy policy.yaml (allowed: https://*.acme.example/oauth/*)" in result.stderr
        ), token
    _manifest(manifest.format(token="https://crm.acme.example/oauth/token"))
    assert _cli(app, "plan", "--policy", "policy.yaml").exit_code == 0
    assert _requests(app) == 1  # only the plan that was allowed listed


# --- rails the manifest can only tighten ---------------------------------------------------


def _seeded(count: int) -> FastAPI:
    seed = [
        {
            "provider": f"crm-{index:02d}",
            "ownership": "user",
            "custom_provider": {
                "name": f"CRM {index}",
                "authorization_url": "https://crm.example/oauth/authorize",
                "token_url": "https://crm.example/oauth/token",
            },
            "credentials": {"type": "organization"},
        }
        for index in range(count)
    ]
    return create_app(api_key=KEY_CANARY, seed=[*seed, *SEED])


PRUNE_ALL = "version: 1\nsettings:\n  prune: true\n  max_delete_fraction: 1.0\nintegrations: []\n"


def test_a_manifest_cannot_raise_the_delete_threshold() -> None:
    app = _seeded(12)
    Path("integrations.yaml").write_text(PRUNE_ALL)
    result = _cli(app, "apply", "--yes")
    assert result.exit_code == 3, result.output
    assert (
        "settings.max_delete_fraction 1 is above the ceiling 0.3 of the default policy; "
        "0.3 is used" in result.output
    )
    assert "refusing a plan that deletes or replaces 13 of 13" in result.output
    assert _by_method(app).get("DELETE", 0) == 0
    forced = _cli(app, "apply", "--yes", "--force")  # --force lifts the fraction: by design
    assert forced.exit_code == 0, forced.output


def test_policy_protection_holds_whatever_the_manifest_says() -> None:
    app = _seeded(3)
    Path("policy.yaml").write_text(
        "version: 1\nsafety:\n  protect: ['crm-0*/user', 'slack']\n  max_delete_fraction: 1.0\n"
    )
    Path("integrations.yaml").write_text(PRUNE_ALL)
    result = _cli(app, "apply", "--yes", "--force", "--policy", "policy.yaml")
    assert result.exit_code == 3, result.output
    assert "refusing to delete or replace protected integrations: crm-00 (user) (delete)" in (
        result.output
    )
    assert "slack (user) (delete)" in result.output
    assert _by_method(app).get("DELETE", 0) == 0


def test_prune_is_refused_where_the_policy_forbids_it() -> None:
    app = _seeded(1)
    Path("policy.yaml").write_text("version: 1\nsafety:\n  allow_prune: false\n")
    Path("integrations.yaml").write_text("version: 1\nsettings:\n  prune: true\nintegrations: []\n")
    result = _cli(app, "plan", "--force", "--policy", "policy.yaml")
    assert result.exit_code == 3, result.output
    assert "refusing settings.prune: true: policy policy.yaml does not allow prune" in (
        result.output
    )
    allowed = _cli(app, "plan", "--policy", "policy.yaml", RECONCILER_POLICY="")
    assert allowed.exit_code == 3  # the same policy through --policy: still refused
    by_env = _cli(app, "plan", RECONCILER_POLICY="policy.yaml")
    assert by_env.exit_code == 3
    assert "Policy:    policy policy.yaml" in by_env.stdout


def test_a_policy_is_never_discovered_beside_the_manifests(app: FastAPI) -> None:
    """A pull request that adds its own policy next to its manifest changes nothing."""
    everything = "version: 1\nreferences:\n  env: ['*']\n  vars: ['*']\n  files: ['*']\n"
    Path("reconciler-policy.yaml").write_text(everything)
    Path("policy.yaml").write_text(everything)
    Path("token.txt").write_text(CI_CANARY)
    _manifest(
        "  - slug: github\n    description: ${var:AWS_SECRET_ACCESS_KEY}\n"
        "    credentials:\n      type: custom\n      client_id: Iv1.abc\n"
        "      client_secret: ${env:AWS_SECRET_ACCESS_KEY}\n"
        "  - slug: slack\n    credentials:\n      type: custom\n      client_id: Iv1.abc\n"
        "      client_secret: ${file:token.txt}\n"
    )
    result = _cli(app, "plan")
    assert result.exit_code == 1
    assert result.stderr.count("not allowed by the default policy") == 3, result.stderr
    _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


def test_a_broken_policy_file_is_a_clear_error(app: FastAPI) -> None:
    Path("policy.yaml").write_text(
        "version: 1\nreferences:\n  env: ['AWS_*', 'bad name']\nsafety:\n  protekt: []\n"
    )
    _manifest(GITHUB)
    result = _cli(app, "plan", "--policy", "policy.yaml")
    assert result.exit_code == 1
    assert "policy.yaml:3:8: references.env: 'bad name' is not a variable-name glob" in (
        result.stderr
    )
    assert "policy.yaml:5:3: unknown key 'protekt' in the policy file" in result.stderr
    assert "Traceback" not in result.output
    assert _requests(app) == 0


# --- saved plans ---------------------------------------------------------------------------


def test_a_saved_plan_applies_only_with_the_key_it_was_made_with() -> None:
    """Every WorkOS environment shares one URL: a staging plan must not apply to production."""
    staging_key, production_key = "sk_test_stagingKey00001", "sk_live_productionKey0002"
    staging = create_app(api_key=staging_key, seed=SEED)
    production = create_app(api_key=production_key, seed=SEED)
    _manifest(GITHUB)
    made = _cli(staging, "plan", "--out", "plan.json", WORKOS_API_KEY=staging_key)
    assert made.exit_code == 0, made.output
    result = _cli(production, "apply", "--plan", "plan.json", WORKOS_API_KEY=production_key)
    assert result.exit_code == 3, result.output
    assert "stale plan: it was made with another API key" in result.stderr
    assert _by_method(production, production_key).get("POST", 0) == 0
    text = Path("plan.json").read_text()
    for key in (staging_key, production_key):
        assert key.removeprefix("sk_test_").removeprefix("sk_live_") not in text


def test_a_saved_plan_applies_only_under_the_policy_it_was_made_with(app: FastAPI) -> None:
    Path("policy.yaml").write_text("version: 1\nsafety:\n  max_delete_fraction: 0.5\n")
    _manifest(GITHUB)
    assert _cli(app, "plan", "--out", "plan.json").exit_code == 0
    other = _cli(app, "apply", "--plan", "plan.json", "--policy", "policy.yaml")
    assert other.exit_code == 3
    assert "stale plan: it was made under the default policy, not policy policy.yaml" in (
        other.stderr
    )
    assert _cli(app, "plan", "--out", "plan.json", "--policy", "policy.yaml").exit_code == 0
    Path("policy.yaml").write_text("version: 1\nsafety:\n  max_delete_fraction: 0.9\n")
    changed = _cli(app, "apply", "--plan", "plan.json", "--policy", "policy.yaml")
    assert changed.exit_code == 3
    assert "stale plan: it was made under policy policy.yaml has changed" in changed.stderr
    assert _by_method(app).get("POST", 0) == 0


def test_saved_plan_digests_cannot_be_tested_offline(app: FastAPI) -> None:
    """With the file alone (salt included), a guess of the secret can't be checked:
    the digests are keyed with the API key, which the file does not hold."""
    _manifest(GITHUB)
    assert _cli(app, "plan", "--out", "plan.json").exit_code == 0
    data = json.loads(Path("plan.json").read_text())
    salt = bytes.fromhex(data["salt"])
    recorded = {d["secret"] for d in data["digests"]} - {None}
    assert len(recorded) == 1
    guess = SECRET_CANARY.encode()
    attempts = {
        hmac.new(salt, guess, hashlib.sha256).hexdigest(),
        hashlib.sha256(salt + guess).hexdigest(),
        hashlib.sha256(guess).hexdigest(),
        hmac.new(guess, salt, hashlib.sha256).hexdigest(),
    }
    assert not attempts & recorded
    assert "secret_digests" not in data
    _canaries_absent(Path("plan.json").read_text())


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
