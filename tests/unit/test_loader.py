"""Tests of the manifest loader: the fixture corpus, valid manifests, and edge cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.errors import ManifestError, Problem
from reconciler.manifest import load
from reconciler.models import Settings
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
FILES_REFUSED = (
    "is not allowed by the default policy (references.files: no file; a policy file "
    "names the directories ${file:} may read)"
)
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.MULTILINE)
LITERAL_SECRET = re.compile(r"client_secret:\s*(?!\$\{)(\S+)")


@pytest.fixture(autouse=True)
def _at_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixture paths are given relative, as a user would."""
    monkeypatch.chdir(ROOT)


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


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    problems = _problems([empty])
    assert [str(p) for p in problems] == [
        f"{empty}: empty manifest; expected a mapping with version: 1"
    ]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    manifest = tmp_path / "bom.yaml"
    manifest.write_bytes(b"\xef\xbb\xbfversion: 1\nintegrations:\n  - slug: github\n")
    desired = load([manifest], environ={})
    assert desired.integrations[0].source.line == 3


def test_non_utf8_file(tmp_path: Path) -> None:
    manifest = tmp_path / "latin1.yaml"
    manifest.write_bytes(
        "version: 1\nintegrations:\n  - slug: github\n    description: café\n".encode("latin-1")
    )
    (problem,) = _problems([manifest])
    assert (problem.line, problem.column) == (4, 21)
    assert "not UTF-8" in problem.message


def test_billion_laughs(tmp_path: Path) -> None:
    lines = [
        "version: 1",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    manifest = tmp_path / "laughs.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    (problem,) = _problems([manifest])
    assert "aliases expand this document beyond" in problem.message


def test_very_deep_nesting(tmp_path: Path) -> None:
    manifest = tmp_path / "deep.yaml"
    manifest.write_text("version: 1\nintegrations: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (problem,) = _problems([manifest])
    assert "nesting" in problem.message  # libyaml's own limit, or ours
    assert problem.line == 2


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


def test_a_50_mb_file_is_refused_before_parsing(tmp_path: Path) -> None:
    from reconciler.manifest.files import MAX_MANIFEST_BYTES

    big = tmp_path / "big.yaml"
    line = "  - slug: github\n    description: " + "x" * 200 + "\n"
    with big.open("w") as handle:
        handle.write("version: 1\nintegrations:\n")
        while handle.tell() < 50 * 2**20:
            handle.write(line * 1000)
    assert big.stat().st_size > MAX_MANIFEST_BYTES
    with pytest.raises(ManifestError) as caught:
        load([big])
    (problem,) = caught.value.problems
    assert problem.file == str(big)
    assert "manifests over 16 MiB are refused" in problem.message


@pytest.mark.parametrize("kind", ["manifest", "secret"])
def test_devices_and_fifos_are_refused_without_reading(tmp_path: Path, kind: str) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device = tmp_path / "zero.yaml"
    device.symlink_to("/dev/zero")
    manifest = tmp_path / "m.yaml"
    if kind == "manifest":
        paths = [fifo, device]
    else:
        manifest.write_text(
            "version: 1\nintegrations:\n"
            "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
            "      client_secret: ${file:zero.yaml}\n"
            "  - slug: slack\n    credentials:\n      type: custom\n      client_id: x\n"
            "      client_secret: ${file:fifo}\n"
        )
        paths = [manifest]
    # secrets: a policy allowing the directory's files, so the FIFO is judged by its kind
    policy = _files_policy(tmp_path, "*")
    with pytest.raises(ManifestError) as caught:
        load(paths, policy=policy)
    messages = sorted(p.message for p in caught.value.problems)
    assert len(messages) == 2
    # the FIFO is not read; the symlink to /dev/zero leaves the manifest's tree (the
    # policy's roots): refused before anything is opened, without saying where it points
    assert sum("not a regular file" in m for m in messages) == 1
    outside = "symlink to a file outside" if kind == "manifest" else f"not allowed by {policy.name}"
    assert sum(outside in m for m in messages) == 1
    assert not any("/dev/zero" in m for m in messages)


@pytest.mark.parametrize(
    ("size", "why"),
    [
        (100_000, "file is over 16 KiB; refused"),
        (16 * 2**10 + 1, "file is over 16 KiB; refused"),
        (4097, "a client secret must be 8 to 4096 characters long; refused"),
        (7, "a client secret must be 8 to 4096 characters long; refused"),
    ],
)
def test_an_oversized_secret_file_is_refused(tmp_path: Path, size: int, why: str) -> None:
    (tmp_path / "big.txt").write_text("s" * size)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: x\n      client_secret: ${file:big.txt}\n"
    )
    with pytest.raises(ManifestError) as caught:
        load([manifest], policy=_files_policy(tmp_path, "*.txt"))
    (problem,) = caught.value.problems
    assert problem.message == f"client_secret: ${{file:big.txt}}: {why}"
    assert "sss" not in problem.message


def test_problems_are_capped_per_file(tmp_path: Path) -> None:
    from reconciler.manifest.manifestfile import MAX_PROBLEMS_PER_FILE

    manifest = tmp_path / "m.yaml"
    keys = "".join(f"    unknown{i}: 1\n" for i in range(5000))
    manifest.write_text(f"version: 1\nintegrations:\n  - slug: github\n{keys}")
    with pytest.raises(ManifestError) as caught:
        load([manifest])
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    assert problems[0].message == (
        f"{5000 - MAX_PROBLEMS_PER_FILE} more problems not shown "
        f"(the first {MAX_PROBLEMS_PER_FILE} are)"
    )
