"""Every error names its real subject: a bad policy file is not a bad manifest.

One test per subject of ``ProblemsError`` (the manifest, the policy file, a
saved plan), through the CLI: each problem on its own line, then ``Error: the
<subject> has N problem(s).``, exit 1, and no API call (``app`` is None: a
request would fail the run differently). Then the rest of the one tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import errors
from reconciler.errors import (
    ActionError,
    ApiError,
    ApiUnreachableError,
    ManifestError,
    PlanFileError,
    PolicyError,
    Problem,
    ProblemsError,
    ReconcilerError,
    Refusal,
    RefusalKind,
    UnsafePlanError,
)
from reconciler.results import LeftState
from tests.support import invoke


def _last_lines(stderr: str) -> list[str]:
    return stderr.strip().splitlines()


def test_a_bad_manifest_is_the_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nintegrations:\n  - slug: Not A Slug\n")
    result = invoke(None, "plan", "-f", str(bad))
    assert result.exit_code == 1
    *problems, last = _last_lines(result.stderr)
    assert last == "Error: the manifest has 1 problem."
    assert any("is not a valid slug" in line for line in problems)


def test_a_bad_policy_file_is_the_policy_file(tmp_path: Path, manifest: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nsafety:\n  allow_prune: maybe\n")
    result = invoke(None, "plan", "-f", str(manifest), "--policy", str(policy))
    assert result.exit_code == 1, result.output
    *problems, last = _last_lines(result.stderr)
    assert last == "Error: the policy file has 1 problem."
    assert "manifest" not in last
    (problem,) = problems
    assert problem.startswith(f"{policy}:3:")
    assert "allow_prune" in problem


def test_a_missing_policy_file_is_the_policy_file(tmp_path: Path, manifest: Path) -> None:
    result = invoke(None, "validate", "-f", str(manifest), "--policy", str(tmp_path / "no.yaml"))
    assert result.exit_code == 1
    assert _last_lines(result.stderr) == [
        f"{tmp_path / 'no.yaml'}: no such policy file",
        "Error: the policy file has 1 problem.",
    ]


def test_a_file_that_is_not_a_saved_plan_is_the_saved_plan(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text('{"kind": "something else"}')
    result = invoke(None, "apply", "--plan", str(saved), "--yes")
    assert result.exit_code == 1, result.output
    assert _last_lines(result.stderr) == [
        f"{saved}: not a saved plan made by `reconciler plan --out`",
        "Error: the saved plan has 1 problem.",
    ]


@pytest.mark.parametrize(
    ("error_type", "subject"),
    [(ManifestError, "manifest"), (PolicyError, "policy file"), (PlanFileError, "saved plan")],
)
def test_each_problems_error_counts_its_problems(
    error_type: type[ProblemsError], subject: str
) -> None:
    problems = [Problem("b.yaml", 2, 1, "second"), Problem("a.yaml", 1, 1, "first")]
    error = error_type(problems)
    assert isinstance(error, ProblemsError) and isinstance(error, ReconcilerError)
    assert error.problems == sorted(problems)
    assert error.summary() == f"the {subject} has 2 problems"
    assert error_type([problems[0]]).summary() == f"the {subject} has 1 problem"
    assert str(error) == "a.yaml:1:1: first\nb.yaml:2:1: second"


def test_an_unreachable_api_is_an_api_error_initialised_as_one() -> None:
    error = ApiUnreachableError("api.workos.com:443", "connection refused", request="GET /x")
    assert isinstance(error, ApiError)
    assert (error.status, error.code, error.request_id) == (None, None, None)
    assert error.api_message == "cannot reach api.workos.com:443: connection refused"
    assert str(error) == ("cannot reach api.workos.com:443: connection refused (GET /x: 1 attempt)")
    assert str(error.after(3)).endswith("(GET /x: 3 attempts)")


def test_an_unsafe_plan_carries_its_refusals() -> None:
    refusals = [
        Refusal(RefusalKind.PROTECTED, (("github", "user"),), "refusing github."),
        Refusal(RefusalKind.PRUNE, (), "refusing prune."),
    ]
    error = UnsafePlanError(refusals)
    assert error.refusals == tuple(refusals)
    assert str(error) == "refusing github. refusing prune."
    assert error.exit_code == 3


def test_every_error_lives_in_errors() -> None:
    """The tree is drawn in one module: ``ActionError`` included (it left replace.py)."""
    assert ActionError.__module__ == "reconciler.errors"
    error = ActionError("DELETED and not recreated", LeftState.DELETED)
    assert isinstance(error, ReconcilerError) and error.state is LeftState.DELETED
    drawn = errors.__doc__ or ""
    defined = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, ReconcilerError)
    ]
    assert defined and all(name in drawn for name in defined)
