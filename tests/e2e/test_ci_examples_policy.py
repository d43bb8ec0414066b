"""The examples follow the trust model (the manifest is untrusted, the policy file is
not): shipped manifests read only what the default policy allows (their ${file:}
secrets, what the demo's policy allows), secrets (``${env:}``, ``${file:}``) only in
client_secret and plain values as ``${var:}``, the example policy allows what the
production manifests read and prints no secret's name, and CODEOWNERS covers the
trusted paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load
from reconciler.policy import DEFAULT_POLICY, load_policy
from tests.support.ci_examples import (
    DEFAULT_ENV_GLOBS,
    DEFAULT_VAR_GLOBS,
    EXAMPLES,
    GITHUB,
    GITLAB,
    POLICY,
    ROOT,
    _allowed,
    _env_globs,
    _load,
    _var_globs,
)

DEMO_POLICY = EXAMPLES / "demo-policy.yaml"
CODEOWNERS = EXAMPLES / "ci" / "CODEOWNERS"
PRODUCTION_MANIFESTS = (
    EXAMPLES / "environments" / "base",
    EXAMPLES / "environments" / "production",
)


# --- the trust model ----------------------------------------------------------------

_ENV_REFERENCE = re.compile(r"\$\{env:([^}:]*)(?::-([^}]*))?\}")
_VAR_REFERENCE = re.compile(r"\$\{var:([^}:]*)(?::-([^}]*))?\}")
_FILE_REFERENCE = re.compile(r"\$\{file:([^}]*)\}")
_URL_KEYS = ("authorization_url", "token_url", "refresh_token_url")


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string of a YAML document, with the key it is the value of."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, str):
            yield key, item
        elif isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)


def _manifests(*roots: Path) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*.y*ml"))
        found.extend(path for path in paths if path.suffix in (".yaml", ".yml"))
    return found


def _names(reference: re.Pattern[str], *roots: Path) -> set[str]:
    return {
        match.group(1)
        for path in _manifests(*roots)
        for _, text in _strings(_load(path))
        for match in reference.finditer(text)
    }


def _env_names(*roots: Path) -> set[str]:
    """The variables ``${env:}`` client secrets read."""
    return _names(_ENV_REFERENCE, *roots)


def _var_names(*roots: Path) -> set[str]:
    """The variables ``${var:}`` plain values read (printed)."""
    return _names(_VAR_REFERENCE, *roots)


def _unset_value(text: str) -> str:
    """A field's value when its variable is unset: a reference's default, or the text."""
    match = _VAR_REFERENCE.fullmatch(text)
    return text if match is None else match.group(2) or ""


def _url_allowed(url: str, patterns: list[str]) -> bool:
    """Per docs/design.md: https only, the host matched label by label, the path apart."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return False
    labels = parts.hostname.split(".")
    for pattern in patterns:
        wanted = urlsplit(pattern)
        assert wanted.scheme == "https" and wanted.hostname, pattern
        wanted_labels = wanted.hostname.split(".")
        same_host = len(labels) == len(wanted_labels) and all(
            fnmatchcase(label, glob) for label, glob in zip(labels, wanted_labels, strict=True)
        )
        if same_host and fnmatchcase(parts.path or "/", wanted.path or "/"):
            return True
    return False


def _codeowners(text: str) -> list[tuple[re.Pattern[str], list[str]]]:
    """CODEOWNERS rules (gitignore-style patterns) as regexes over repository paths."""
    rules: list[tuple[re.Pattern[str], list[str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
        body = re.escape(pattern.strip("/"))
        body = body.replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        prefix = "" if anchored else "(?:.*/)?"
        rules.append((re.compile(f"{prefix}{body}(?:/.*)?"), owners))
    return rules


def _owners(path: str, rules: list[tuple[re.Pattern[str], list[str]]]) -> list[str]:
    """The owners of ``path``: the last matching rule wins, as on GitHub and GitLab."""
    owners: list[str] = []
    for pattern, rule_owners in rules:
        if pattern.fullmatch(path):
            owners = rule_owners
    return owners


def test_shipped_manifests_follow_the_default_policy() -> None:
    """Every example reads only ``RECONCILER_*`` secrets and ``RECONCILER_VAR_*`` plain
    values, secrets in client_secret only; its ``${file:}`` secrets lie in its own tree,
    which the default policy refuses and the demo's policy allows."""
    manifests = _manifests(EXAMPLES / "integrations.yaml", EXAMPLES / "environments")
    assert len(manifests) == 6
    names, variables = _env_names(*manifests), _var_names(*manifests)
    assert names, "the examples show ${env:} references"
    assert variables, "the examples show ${var:} references"
    assert all(_allowed(name, DEFAULT_ENV_GLOBS) for name in names), sorted(names)
    assert all(_allowed(name, DEFAULT_VAR_GLOBS) for name in variables), sorted(variables)
    demo = load_policy(DEMO_POLICY)
    files = 0
    for manifest in manifests:
        for key, text in _strings(_load(manifest)):
            secret = _ENV_REFERENCE.search(text) or _FILE_REFERENCE.search(text)
            assert (key == "client_secret") == bool(secret), f"{manifest}: {key}: {text}"
            for match in _FILE_REFERENCE.finditer(text):
                files += 1
                real = os.path.realpath(manifest.parent / match.group(1))
                assert real.startswith(str(manifest.parent.resolve()) + os.sep), match.group(0)
                assert Path(real).is_file(), match.group(0)
                assert DEFAULT_POLICY.file_refusal(real) is not None, match.group(0)
                assert demo.file_refusal(real) is None, match.group(0)
    assert files, "the examples show a ${file:} reference"


def test_the_demo_sets_what_the_example_reads() -> None:
    demo = (EXAMPLES / "demo.sh").read_text(encoding="utf-8")
    exported = set(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=", demo, re.MULTILINE))
    assert _env_names(EXAMPLES / "integrations.yaml") <= exported
    assert _var_names(EXAMPLES / "integrations.yaml") <= exported
    for_manifests = {name for name in exported if not name.startswith("WORKOS_")}
    assert for_manifests and all(_allowed(name, DEFAULT_ENV_GLOBS) for name in for_manifests)
    # its ${file:} secret needs a policy: the demo's, named as the tool reads it
    policy = re.search(r"^export RECONCILER_POLICY=(\S+)$", demo, re.MULTILINE)
    assert policy is not None and ROOT / policy.group(1) == DEMO_POLICY


def test_example_policy_format() -> None:
    """The example policy is version 1 of docs/design.md's format and loosens nothing."""
    policy = _load(POLICY)
    assert set(policy) <= {"version", "environment", "references", "custom_provider_urls", "safety"}
    assert policy["version"] == 1 and policy["version"] is not True
    assert policy["environment"] == "production"
    references, safety = policy["references"], policy["safety"]
    assert set(references) <= {"env", "vars", "files"}
    for key in ("env", "vars"):
        assert all(re.fullmatch(r"[A-Za-z0-9_*?]+", glob) for glob in references[key])
        assert not any(fnmatchcase("WORKOS_API_KEY", glob) for glob in references[key])
    assert all(glob.startswith("RECONCILER_") for glob in references["env"])
    assert all(glob.startswith("RECONCILER_VAR_") for glob in references["vars"])
    # a ${var:} value is printed: no secret's name may match a vars glob
    secrets = _env_names(*PRODUCTION_MANIFESTS) | set(references["env"])
    assert not any(fnmatchcase(name, glob) for name in secrets for glob in references["vars"]), (
        "a plain variable could print a secret"
    )
    assert isinstance(references["files"], list)
    assert all(pattern.startswith("https://") for pattern in policy["custom_provider_urls"])
    assert set(safety) <= {"protect", "allow_prune", "max_delete_fraction"}
    for pattern in safety["protect"]:
        slug, _, ownership = pattern.partition("/")
        assert slug and ownership in ("", "user", "organization"), pattern
    assert safety["allow_prune"] is False
    assert 0 <= safety["max_delete_fraction"] <= 0.3
    header = POLICY.read_text(encoding="utf-8")
    for ci in (GITHUB, GITLAB):
        where = _load(ci).get("env") or _load(ci)["variables"]
        assert where["RECONCILER_POLICY"] in header, f"{POLICY.name} says where {ci.name} wants it"


def test_example_policy_loads_and_admits_the_production_manifests() -> None:
    """The policy loader accepts the example, and the production manifests load under it."""
    loaded = load_policy(POLICY)
    assert loaded.environment == "production"
    assert loaded.env_refusal("WORKOS_API_KEY") is not None
    assert loaded.env_refusal("AWS_SECRET_ACCESS_KEY") is not None
    for name in _env_names(*PRODUCTION_MANIFESTS):
        assert loaded.var_refusal(name) is not None, f"{name} could be printed"
    names = _env_names(*PRODUCTION_MANIFESTS) | _var_names(*PRODUCTION_MANIFESTS)
    environ = {name: f"{name.lower()}-0001" for name in names}
    environ.pop("RECONCILER_VAR_ACME_CRM_AUTHORIZATION_URL")  # unset in production: defaults
    environ.pop("RECONCILER_VAR_ACME_CRM_TOKEN_URL")
    desired = load(list(PRODUCTION_MANIFESTS), policy=loaded, environ=environ)
    assert desired.settings.environment == loaded.environment
    elsewhere = "https://crm.evil.example/oauth/token"
    with pytest.raises(ManifestError, match="not allowed by policy") as refused:
        load(
            list(PRODUCTION_MANIFESTS),
            policy=loaded,
            environ={**environ, "RECONCILER_VAR_ACME_CRM_TOKEN_URL": elsewhere},
        )
    assert elsewhere not in str(refused.value), "a referenced value is never echoed"


def test_example_policy_allows_what_production_reads() -> None:
    policy = _load(POLICY)
    globs = _env_globs(policy)
    names = _env_names(*PRODUCTION_MANIFESTS)
    assert names and all(_allowed(name, globs) for name in names), sorted(names)
    var_globs = _var_globs(policy)
    variables = _var_names(*PRODUCTION_MANIFESTS)
    assert variables and all(_allowed(name, var_globs) for name in variables), sorted(variables)
    urls = [
        _unset_value(text)
        for path in _manifests(*PRODUCTION_MANIFESTS)
        for key, text in _strings(_load(path))
        if key in _URL_KEYS
    ]
    assert urls and all(_url_allowed(url, policy["custom_provider_urls"]) for url in urls), urls
    assert not _url_allowed("https://evil.example/oauth/token", policy["custom_provider_urls"])
    assert not _url_allowed("http://crm.acme.example/oauth/token", policy["custom_provider_urls"])


def test_codeowners_matching() -> None:
    rules = _codeowners("*.md @docs\n/.github/ @ci\n/.github/x.yaml @sec\nlib/**/a @a\n")
    assert _owners("README.md", rules) == ["@docs"]
    assert _owners("docs/guide.md", rules) == ["@docs"]
    assert _owners(".github/workflows/w.yml", rules) == ["@ci"]
    assert _owners(".github/x.yaml", rules) == ["@sec"]
    assert _owners("lib/b/c/a", rules) == ["@a"]
    assert _owners("src/.github/x.yaml", rules) == []


def test_codeowners_example_covers_the_trusted_paths() -> None:
    rules = _codeowners(CODEOWNERS.read_text(encoding="utf-8"))
    assert rules and all(owners for _, owners in rules)
    assert all(owner.startswith("@") for _, owners in rules for owner in owners)
    workflow, pipeline = _load(GITHUB), _load(GITLAB)
    (workflow_path,) = [
        path
        for path in workflow["on"]["pull_request"]["paths"]
        if path.startswith(".github/")
        if path.endswith((".yml", ".yaml")) and "/workflows/" in path
    ]
    trusted = {
        workflow["env"]["RECONCILER_POLICY"]: "the GitHub policy",
        workflow_path: "the GitHub workflow",
        pipeline["variables"]["RECONCILER_POLICY"]: "the GitLab policy",
        ".gitlab-ci.yml": "the GitLab pipeline",
        ".github/CODEOWNERS": "GitHub's CODEOWNERS itself",
        ".gitlab/CODEOWNERS": "GitLab's CODEOWNERS itself",
    }
    manifest_owners = _owners("integrations/production/integrations.yaml", rules)
    for path, what in trusted.items():
        owners = _owners(path, rules)
        assert owners, f"CODEOWNERS leaves {what} ({path}) without an owner"
        assert not set(owners) & set(manifest_owners), f"{what} is owned like the manifests"
