"""Manifest loader test support: the corpus, its environment and policy, and problem readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError, Problem
from reconciler.manifest import load
from reconciler.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = Path("tests/manifests")
ENVIRON = {
    "RECONCILER_SET_SECRET": "s3cr3t-value",
    "RECONCILER_EMPTY_SECRET": "",
    "RECONCILER_GITHUB_CLIENT_SECRET": "gh-secret-0001",
    "RECONCILER_VAR_SET": "set-value",
    "RECONCILER_VAR_EMPTY": "",
}
# The default policy allows no ${file:} secret: the corpus is read under one that allows
# the fixtures' secrets/ directories, as a policy file in tests/manifests/ would.
CORPUS_POLICY = Policy(
    path="tests/manifests/policy.yaml",
    file_globs=("valid/secrets/*", "invalid/secrets/*"),
    root=str(ROOT / "tests" / "manifests"),
)


def _problems(
    paths: list[str | Path],
    environ: dict[str, str] | None = None,
    policy: Policy = CORPUS_POLICY,
) -> list[Problem]:
    with pytest.raises(ManifestError) as caught:
        load(paths, policy=policy, environ=ENVIRON if environ is None else environ)
    return caught.value.problems


def _files_policy(directory: Path, *globs: str) -> Policy:
    """A policy file in ``directory`` allowing ``${file:}`` secrets matching ``globs``."""
    path = directory / "policy.yaml"
    path.write_text(f"version: 1\nreferences:\n  files: {list(globs)!r}\n")
    return load_policy(path)
