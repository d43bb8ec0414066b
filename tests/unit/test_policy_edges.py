"""The policy's edges (reconciler/policy.py): the size limit and the unreadable file, where
each problem points, values never coerced, the limits of each rule (hosts label by label,
credentials in a URL, ``**`` in a path glob) and what the fingerprint covers."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from reconciler.errors import PolicyError, Problem
from reconciler.policy import MAX_POLICY_BYTES, Policy, load_policy


def _problems(path: str | Path) -> list[Problem]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return list(caught.value.problems)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _policy(tmp_path: Path, text: str) -> Policy:
    return load_policy(_write(tmp_path / "policy.yaml", text))


# --- the file as a whole: missing, unreadable, too big, not a mapping ----------------------


def test_a_policy_file_of_exactly_1_mib_is_read_and_one_byte_more_is_refused(
    tmp_path: Path,
) -> None:
    head = "version: 1\nsafety:\n  allow_prune: false\n"
    padding = "#" + "x" * (MAX_POLICY_BYTES - len(head) - 2) + "\n"
    exact = _write(tmp_path / "exact.yaml", head + padding)
    assert exact.stat().st_size == 2**20
    assert load_policy(exact).allow_prune is False
    over = _write(tmp_path / "over.yaml", head + "#" + padding)
    assert _problems(over) == [Problem(str(over), 0, 0, "policy file over 1 MiB; refused")]


def test_a_missing_or_unreadable_policy_file_is_a_problem_of_the_whole_file(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.yaml"
    assert _problems(missing) == [Problem(str(missing), 0, 0, "no such policy file")]
    assert _problems(tmp_path) == [
        Problem(str(tmp_path), 0, 0, "cannot read the policy file: Is a directory")
    ]


def test_a_policy_that_is_not_a_mapping_is_a_problem_of_the_whole_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "policy.yaml", "- version: 1\n")
    assert _problems(path) == [
        Problem(str(path), 0, 0, "a policy file must be a mapping with version: 1")
    ]


# --- where each problem points -------------------------------------------------------------


def test_an_unknown_nested_key_is_named_and_pointed_at(tmp_path: Path) -> None:
    path = _write(tmp_path / "policy.yaml", "version: 1\nsafety:\n  prune: true\n")
    assert _problems(path) == [Problem(str(path), 3, 3, "unknown key 'prune' in the policy file")]


def test_a_missing_version_points_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "policy.yaml", "\n\nsafety:\n  allow_prune: false\n")
    assert _problems(path) == [
        Problem(str(path), 3, 1, "missing required key 'version' in the policy file")
    ]


# --- values: typed as written, within their bounds ------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("safety:\n  max_delete_fraction: '0.5'\n", "safety.max_delete_fraction:"),
        ("safety:\n  allow_prune: 'false'\n", "safety.allow_prune:"),
        ("safety:\n  max_delete_fraction: -0.1\n", "safety.max_delete_fraction:"),
        ("environment: ''\n", "environment:"),
        ("references:\n  env: ['GITHUB-TOKEN']\n", "references.env: 'GITHUB-TOKEN'"),
        ("references:\n  env: ['RECONCILER_*', 'A B']\n", "references.env: 'A B'"),
    ],
    ids=["quoted-number", "quoted-bool", "negative", "empty-environment", "bad-glob", "2nd-glob"],
)
def test_a_value_of_the_wrong_type_or_out_of_bounds_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path / "policy.yaml", "version: 1\n" + text)
    (problem,) = _problems(path)
    assert problem.message.startswith(message), problem.message


def test_an_env_glob_refusal_says_what_a_glob_may_hold(tmp_path: Path) -> None:
    path = _write(tmp_path / "policy.yaml", "version: 1\nreferences:\n  env: ['GITHUB-TOKEN']\n")
    (problem,) = _problems(path)
    assert (problem.line, problem.column) == (3, 8)
    assert problem.message == (
        "references.env: 'GITHUB-TOKEN' is not a variable-name glob (letters, digits, _, * and ?)"
    )


def test_a_one_letter_environment_and_a_zero_threshold_are_accepted(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nenvironment: p\nsafety:\n  max_delete_fraction: 0\n")
    assert policy.environment == "p"
    assert policy.max_delete_fraction == 0.0


def test_prune_is_allowed_unless_the_policy_says_otherwise(tmp_path: Path) -> None:
    assert _policy(tmp_path, "version: 1\nsafety:\n  protect: [crm]\n").allow_prune is True


# --- the rules at their limits --------------------------------------------------------------


def test_a_url_host_matches_label_by_label(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\ncustom_provider_urls: ['https://*.acme.example/*']\n")
    assert policy.url_refusal("https://login.acme.example/token") is None
    assert policy.url_refusal("https://login.other.example/token") is not None
    assert policy.url_refusal("https://login.acme.examples/token") is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://user@login.acme.example/token",
        "https://:secret@login.acme.example/token",
        "https://user:secret@login.acme.example/token",
        "https:///token",
    ],
)
def test_a_url_with_credentials_or_without_a_host_is_refused(tmp_path: Path, url: str) -> None:
    policy = _policy(tmp_path, "version: 1\ncustom_provider_urls: ['https://*.acme.example/*']\n")
    assert policy.url_refusal(url) == (
        f"is not allowed by {policy.name} (allowed: https://*.acme.example/*)"
    )


def test_a_double_star_then_a_name_matches_that_name_at_any_depth(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nreferences:\n  files: ['keys/**/token.txt']\n")
    root = os.path.realpath(tmp_path)
    for allowed in ("keys/token.txt", "keys/a/token.txt", "keys/a/b/token.txt"):
        assert policy.file_refusal(os.path.join(root, allowed)) is None, allowed
    for refused in ("keys/a/other.txt", "keys/a/xtoken.txt", "other/token.txt"):
        assert policy.file_refusal(os.path.join(root, refused)) == (
            f"is not allowed by {policy.name} "
            "(references.files: keys/**/token.txt, relative to the policy file)"
        ), refused


def test_a_double_star_at_the_end_of_a_name_keeps_what_follows_it(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nreferences:\n  files: ['keys/**.key']\n")
    root = os.path.realpath(tmp_path)
    assert policy.file_refusal(os.path.join(root, "keys/a/b.key")) is None
    assert policy.file_refusal(os.path.join(root, "keys/a/bkey")) is not None


def test_an_empty_file_list_allows_no_file(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nreferences:\n  files: []\n")
    root = os.path.realpath(tmp_path)
    assert policy.file_refusal(os.path.join(root, "token.txt")) == (
        f"is not allowed by {policy.name} (references.files: no file; a policy file "
        "names the directories ${file:} may read)"
    )


# --- what the fingerprint covers ------------------------------------------------------------


def test_the_policy_file_directory_counts_only_when_file_globs_are_relative_to_it(
    tmp_path: Path,
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    text = "version: 1\nsafety:\n  allow_prune: false\n"
    assert _policy(one, text).fingerprint == _policy(two, text).fingerprint
    with_files = text + "references:\n  files: ['secrets/*']\n"
    assert _policy(one, with_files).fingerprint != _policy(two, with_files).fingerprint


def test_a_loaded_policy_cannot_be_changed_so_its_fingerprint_stays_true(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "version: 1\nsafety:\n  protect: [crm]\n")
    fingerprint = policy.fingerprint
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.protect = ()  # type: ignore[misc]
    assert policy.protects("crm", "user")
    assert policy.fingerprint == fingerprint
