"""The policy file: its format, its defaults, and how it matches names, paths and URLs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy import DEFAULT_POLICY, Policy, load_policy, policy_path


def _policy(tmp_path: Path, text: str, name: str = "policy.yaml") -> Policy:
    path = tmp_path / name
    path.write_text(text)
    return load_policy(path)


def test_defaults_without_a_policy_file() -> None:
    policy = load_policy(None)
    assert policy is DEFAULT_POLICY
    assert policy.name == "the default policy"
    assert policy.env_refusal("RECONCILER_GITHUB_SECRET") is None
    assert policy.env_refusal("RECONCILER_") is None
    assert policy.env_refusal("reconciler_lower") is not None  # case-sensitive
    assert policy.env_refusal("GITHUB_TOKEN") == (
        "is not allowed by the default policy (references.env: RECONCILER_*)"
    )
    # every name is judged, whatever its shape
    assert policy.env_refusal("1PASSWORD_TOKEN") is not None
    assert policy.env_refusal("deploy-token") is not None
    # plain variables: RECONCILER_VAR_* only, so no secret's name can be printed
    assert policy.var_refusal("RECONCILER_VAR_ACCOUNT") is None
    assert policy.var_refusal("RECONCILER_GITHUB_CLIENT_SECRET") == (
        "is not allowed by the default policy (references.vars: RECONCILER_VAR_*)"
    )
    assert policy.var_refusal("WORKOS_API_KEY") == (
        "is never resolvable: WORKOS_API_KEY is the API key"
    )
    assert policy.file_refusal("/repo/m/secrets/a.txt") is not None
    assert policy.url_refusal("https://anywhere.example/token") is None
    assert policy.allow_prune is True
    assert policy.delete_fraction(1.0) == 0.3
    assert policy.delete_fraction(0.1) == 0.1
    assert not policy.protects("github", "user")


def test_the_api_key_is_never_allowed_even_by_a_catch_all(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nreferences:\n  env: ['*']\n")
    assert policy.env_refusal("AWS_SECRET_ACCESS_KEY") is None
    assert policy.env_refusal("WORKOS_API_KEY") == (
        "is never resolvable: WORKOS_API_KEY is the API key"
    )


def test_env_globs_star_and_question_mark_only(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nreferences:\n  env: ['APP_?_SECRET', 'CRM_*']\n")
    assert policy.env_refusal("APP_1_SECRET") is None
    assert policy.env_refusal("APP_12_SECRET") is not None
    assert policy.env_refusal("CRM_") is None
    assert policy.env_refusal("RECONCILER_X") is not None  # a given list replaces the default
    assert policy.var_globs == DEFAULT_POLICY.var_globs  # a key left out keeps its default
    assert policy.name == f"policy {tmp_path / 'policy.yaml'}"


def test_file_globs_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    policy = _policy(
        ci, "version: 1\nreferences:\n  files: ['../secrets/*.txt', '../deep/**/key']\n"
    )
    root = os.path.realpath(tmp_path)
    manifests = os.path.join(root, "manifests")
    assert policy.file_refusal(f"{root}/secrets/github.txt") is None
    assert policy.file_refusal(f"{root}/secrets/sub/github.txt") is not None
    assert policy.file_refusal(f"{root}/secrets/github.txt.bak") is not None
    assert policy.file_refusal(f"{root}/deep/key") is None
    assert policy.file_refusal(f"{root}/deep/a/b/key") is None
    # only the roots named count: the manifest's own tree is not one
    assert policy.file_refusal(f"{manifests}/secret.txt") is not None
    assert policy.file_refusal(f"{root}/ci/secret.txt") is not None


def test_the_default_policy_allows_no_file() -> None:
    refusal = (
        "is not allowed by the default policy (references.files: no file; a policy file "
        "names the directories ${file:} may read)"
    )
    for path in ("/repo/m/secrets/a.txt", "/repo/m", "/repo/mx/a.txt", "/etc/shadow"):
        assert DEFAULT_POLICY.file_refusal(path) == refusal, path


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://crm.acme.example/oauth/token", True),
        ("https://CRM.Acme.Example/oauth/token", True),
        ("https://crm.acme.example:443/oauth/token", True),
        ("https://crm.acme.example/oauth/a/b", True),
        ("http://crm.acme.example/oauth/token", False),
        ("https://acme.example/oauth/token", False),
        ("https://a.crm.acme.example/oauth/token", False),
        ("https://crm.acme.example.evil.example/oauth/token", False),
        ("https://crm.acme.example@evil.example/oauth/token", False),
        ("https://user:pw@crm.acme.example/oauth/token", False),
        ("https://crm.acme.example:8443/oauth/token", False),
        ("https://crm.acme.example/other", False),
        ("https://crm.acme.example:99999/oauth/token", False),
    ],
)
def test_urls_match_host_label_by_label_and_path_apart(
    tmp_path: Path, url: str, allowed: bool
) -> None:
    policy = _policy(
        tmp_path, "version: 1\ncustom_provider_urls: ['https://*.acme.example/oauth/*']\n"
    )
    assert (policy.url_refusal(url) is None) is allowed


@pytest.mark.parametrize(
    ("pattern", "identity", "protected"),
    [
        ("github", ("github", "user"), True),
        ("github", ("github", "organization"), True),
        ("github/organization", ("github", "user"), False),
        ("github/organization", ("github", "organization"), True),
        ("crm-*", ("crm-eu", "user"), True),
        ("crm-*", ("github", "user"), False),
    ],
)
def test_protect_patterns(
    tmp_path: Path, pattern: str, identity: tuple[str, str], protected: bool
) -> None:
    policy = _policy(tmp_path, f"version: 1\nsafety:\n  protect: ['{pattern}']\n")
    assert policy.protects(*identity) is protected


def test_a_key_left_out_keeps_its_default(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nsafety:\n  allow_prune: false\n")
    assert policy.allow_prune is False
    assert policy.env_globs == DEFAULT_POLICY.env_globs
    assert policy.var_globs == DEFAULT_POLICY.var_globs
    assert policy.file_globs == () == DEFAULT_POLICY.file_globs  # no file
    assert policy.max_delete_fraction == 0.3


def test_fingerprints_differ_by_what_the_policy_decides(tmp_path: Path) -> None:
    one = _policy(tmp_path, "version: 1\nsafety:\n  max_delete_fraction: 0.2\n", "a.yaml")
    same = _policy(tmp_path, "version: 1\nsafety:\n  max_delete_fraction: 0.2\n", "b.yaml")
    other = _policy(tmp_path, "version: 1\nsafety:\n  max_delete_fraction: 0.25\n", "c.yaml")
    assert one.fingerprint == same.fingerprint
    assert one.fingerprint != other.fingerprint
    assert one.fingerprint != DEFAULT_POLICY.fingerprint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: true\n", "policy.yaml:1:10: version: expected the integer 1"),
        ("references: {}\n", "policy.yaml:1:1: missing required key 'version' in the policy file"),
        (
            "version: 1\nsafety:\n  max_delete_fraction: 2\n",
            "policy.yaml:3:24: safety.max_delete_fraction:",
        ),
        (
            "version: 1\nsafety:\n  protect: ['github/everyone']\n",
            "policy.yaml:3:12: safety.protect: 'github/everyone': expected a slug glob",
        ),
        (
            "version: 1\ncustom_provider_urls: ['http://crm.example/*']\n",
            "policy.yaml:2:23: custom_provider_urls: 'http://crm.example/*': expected https://",
        ),
        ("[1, 2]\n", "policy.yaml: a policy file must be a mapping with version: 1"),
        ("version: 1\nextra: 1\n", "policy.yaml:2:1: unknown key 'extra' in the policy file"),
    ],
)
def test_policy_problems_point_at_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy("policy.yaml")
    assert any(str(p).startswith(message) for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_a_missing_policy_file_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_policy_path_comes_from_the_flag_or_the_environment_only() -> None:
    assert policy_path("a.yaml", {"RECONCILER_POLICY": "b.yaml"}) == "a.yaml"
    assert policy_path(None, {"RECONCILER_POLICY": "b.yaml"}) == "b.yaml"
    assert policy_path(None, {"RECONCILER_POLICY": ""}) is None
    assert policy_path(None, {}) is None
