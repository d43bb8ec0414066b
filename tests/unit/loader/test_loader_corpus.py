"""Tests of the manifest loader on the fixture corpus: invalid manifests report every
problem at its place, valid ones load whole; files, directories and paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.errors import ManifestError, Problem
from reconciler.manifest import load
from reconciler.models import Settings
from tests.support.loader import CORPUS_POLICY, ENVIRON, MANIFESTS, _problems

EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.MULTILINE)
LITERAL_SECRET = re.compile(r"client_secret:\s*(?!\$\{)(\S+)")


def _expected(file: Path) -> list[tuple[str, int, int, str]]:
    text = file.read_text(encoding="utf-8")
    return [
        (str(file), int(line), int(column), message)
        for line, column, message in EXPECT.findall(text)
    ]


def _check(problems: list[Problem], expected: list[tuple[str, int, int, str]]) -> None:
    assert expected, "a fixture states at least one expected problem"
    assert len(problems) == len(expected), [str(p) for p in problems]
    for file, line, column, fragment in expected:
        matching = [
            p
            for p in problems
            if (p.file, p.line, p.column) == (file, line, column) and fragment in p.message
        ]
        assert matching, (
            f"no problem {file}:{line}:{column}: {fragment!r} in {[str(p) for p in problems]}"
        )


def _literal_secrets(file: Path) -> list[str]:
    return LITERAL_SECRET.findall(file.read_text(encoding="utf-8"))


INVALID = sorted((MANIFESTS / "invalid").glob("*.yaml"))
MULTI = sorted(path for path in (MANIFESTS / "multi").iterdir() if path.is_dir())


def test_the_corpus_is_there() -> None:
    assert len(INVALID) >= 30
    assert len(MULTI) >= 3


@pytest.mark.parametrize("file", INVALID, ids=lambda path: path.stem)
def test_invalid_manifest(file: Path) -> None:
    problems = _problems([str(file)])
    _check(problems, _expected(file))
    for literal in _literal_secrets(file):
        assert all(literal not in str(problem) for problem in problems)


@pytest.mark.parametrize("directory", MULTI, ids=lambda path: path.name)
def test_invalid_run_of_several_files(directory: Path) -> None:
    files = sorted(directory.glob("*.y*ml"))
    problems = _problems([str(directory)])
    _check(problems, [expected for file in files for expected in _expected(file)])


def test_literal_secret_is_never_echoed() -> None:
    problems = _problems([str(MANIFESTS / "invalid" / "literal-secret.yaml")])
    assert "gh-hunter2-literal" not in "\n".join(str(p) for p in problems)
    assert "gh-hunter2-literal" not in str(ManifestError(problems))


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = _problems([str(MANIFESTS / "invalid" / "three-errors.yaml")])
    assert [(p.line, p.column) for p in problems] == [(7, 14), (9, 5), (11, 16)]


def test_problems_of_every_file_are_reported_together_and_sorted() -> None:
    problems = _problems([str(MANIFESTS / "multi" / "problems-in-every-file")])
    assert [Path(p.file).name for p in problems] == ["a.yaml", "b.yaml", "c.yaml"]
    assert problems == sorted(problems)


def test_full_manifest() -> None:
    desired = load([str(MANIFESTS / "valid" / "full.yaml")], policy=CORPUS_POLICY, environ=ENVIRON)
    assert desired.files == ("tests/manifests/valid/full.yaml",)
    assert desired.settings == Settings(prune=False, ignore=["legacy-*"], max_delete_fraction=0.3)
    github, acme_user, snowflake, acme_org = desired.integrations
    assert github.identity == ("github", "user")
    assert str(github.source) == "tests/manifests/valid/full.yaml:8:5"
    assert github.spec.model_fields_set == {
        "slug",
        "ownership",
        "description",
        "enabled",
        "scopes",
        "credentials",
        "protect",
    }
    assert github.spec.scopes == ["repo", "read:org"]
    assert github.client_secret is not None
    assert github.client_secret.reveal() == "gh-secret-0001"
    assert acme_user.spec.model_fields_set == {"slug", "custom_provider", "credentials"}
    assert not acme_user.managed("enabled")
    assert acme_user.spec.enabled is False
    assert acme_user.spec.auth_methods == ["oauth"]
    assert acme_user.client_secret is None
    provider = acme_user.spec.custom_provider
    assert provider is not None
    assert provider.model_fields_set == {"name", "authorization_url", "token_url"}
    assert snowflake.managed("description") and snowflake.spec.description is None
    assert snowflake.managed("scopes") and snowflake.spec.scopes is None
    assert snowflake.spec.config == {"account": "xy12345"}
    assert acme_org.identity == ("acme-crm", "organization")


def test_minimal_manifest_has_default_settings() -> None:
    desired = load(["tests/manifests/valid/minimal.yaml"], environ={})
    assert desired.integrations == ()
    assert desired.settings == Settings()


def test_anchors_and_merge_keys() -> None:
    desired = load([MANIFESTS / "valid" / "anchors.yaml"], environ={})
    user, organization, billing = desired.integrations
    assert organization.identity == ("acme-crm", "organization")
    assert organization.spec.description == "Acme CRM for organizations"
    assert organization.spec.custom_provider == user.spec.custom_provider
    assert billing.spec.custom_provider == user.spec.custom_provider
    assert organization.spec.credentials == user.spec.credentials


def test_directory_is_read_recursively_in_path_order_hidden_directories_aside() -> None:
    desired = load([MANIFESTS / "valid" / "directory"], environ={})
    assert desired.files == (
        "tests/manifests/valid/directory/10-builtin.yaml",
        "tests/manifests/valid/directory/20-custom.yml",
        "tests/manifests/valid/directory/30-settings.yaml",
        "tests/manifests/valid/directory/nested/15-nested.yaml",
    )
    assert [entry.identity for entry in desired.integrations] == [
        ("github", "user"),
        ("slack", "user"),
        ("acme-crm", "user"),
        ("acme-crm", "organization"),
        ("notion", "organization"),
    ]
    assert desired.settings.prune is True
    assert desired.integrations[2].source.file == "tests/manifests/valid/directory/20-custom.yml"


def test_several_files_merge_and_a_file_given_twice_is_read_once() -> None:
    directory = MANIFESTS / "valid" / "directory"
    desired = load([directory / "20-custom.yml", directory, "tests/manifests/valid/minimal.yaml"])
    assert desired.files == (
        "tests/manifests/valid/directory/20-custom.yml",
        "tests/manifests/valid/directory/10-builtin.yaml",
        "tests/manifests/valid/directory/30-settings.yaml",
        "tests/manifests/valid/directory/nested/15-nested.yaml",
        "tests/manifests/valid/minimal.yaml",
    )
    assert len(desired.integrations) == 5


def test_missing_path_and_directory_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no manifest here\n")
    problems = _problems([tmp_path / "absent.yaml", tmp_path])
    assert [(p.file, p.line, p.message) for p in problems] == [
        (
            str(tmp_path),
            0,
            "no *.yaml or *.yml manifest in this directory or any directory below it",
        ),
        (str(tmp_path / "absent.yaml"), 0, "no such file or directory"),
    ]


def test_no_path_at_all() -> None:
    with pytest.raises(ManifestError, match="no manifest file given"):
        load([])
