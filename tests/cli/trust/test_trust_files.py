"""The trust boundary, tried as a pull request's author would: files. A file is read
only under the policy's roots, symlinks do not lead out of the tree, and a manifest
that is not a mapping is never quoted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from reconciler.manifest import load
from tests.support import invoke
from tests.support.trust import (
    CI_CANARY,
    SECRET_CANARY,
    _canaries_absent,
    _cli,
    _manifest,
    _requests,
)

FILES_REFUSED = (
    "is not allowed by the default policy (references.files: no file; a policy file "
    "names the directories ${file:} may read)"
)


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
