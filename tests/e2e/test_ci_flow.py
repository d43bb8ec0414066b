"""The example GitHub workflow's flow, run job by job (tests/e2e/workflow_runner.py) with
the real tool against a live emulator and a fake ``gh``:

- a pull request from a branch of the repository: planned with no client secret, under
  the base branch's policy, adoptions shown, the plan as a comment;
- a pull request from a fork: not planned, and the summary says so;
- a merge: the plan job saves the plan and shows it; the apply job, behind the protected
  environment, applies exactly that artifact and comments the results on the merged
  pull request;
- a merge whose remote changes before the approval: the artifact is refused as stale.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EMULATOR_API_KEY, EMULATOR_AUTH
from tests.e2e.workflow_runner import JobRun, Run, evaluate, run_job
from tests.support.action import REPOSITORY, Fakes, make_fakes
from tests.support.ci_examples import GITHUB, _load

POLICY = "version: 1\nenvironment: production\n"
SECRET = "gh-client-secret-0123-a1b2"
BASE_MANIFEST = """\
version: 1
integrations:
  - slug: github
    description: GitHub app
    credentials:
      type: custom
      client_id: Iv1.abc123
      client_secret: ${env:RECONCILER_GITHUB_CLIENT_SECRET}
"""
SETTINGS = "version: 1\nsettings:\n  environment: production\n"
ADDED = "version: 1\nintegrations:\n  - slug: notion\n"
"""The pull request starts managing notion (user), which exists and matches: adopted."""
SEED = [
    {
        "provider": "github",
        "ownership": "user",
        "description": "GitHub app",
        "credentials": {"type": "custom", "client_id": "Iv1.abc123", "client_secret": SECRET},
    },
    {"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}},
]
MERGE_SHA = "a1" * 20
BASE_SHA = "b2" * 20
PR_NUMBER = 7


def _tree(path: Path, *, head: bool, policy: bool = True) -> Path:
    files = {
        "integrations/base/integrations.yaml": BASE_MANIFEST.replace(
            "GitHub app", "Production GitHub app" if head else "GitHub app"
        ),
        "integrations/production/settings.yaml": SETTINGS,
    }
    if head:
        files["integrations/production/integrations.yaml"] = ADDED
    if policy:
        files[".github/reconciler-policy.yaml"] = POLICY
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    return path


def _has_no_secrets_flag() -> bool:
    from reconciler.cli import cli

    return any("--no-secrets" in p.opts for p in cli.commands["plan"].params)


NO_SECRETS = pytest.mark.skipif(
    not _has_no_secrets_flag(),
    reason="`plan --no-secrets` (the lead's, issue 20) is not on this branch yet: the "
    "pull-request job plans with it",
)


@pytest.fixture
def remote(live_emulator: str) -> str:
    for body in SEED:
        response = httpx.post(
            f"{live_emulator}/data-integrations", json=body, headers=EMULATOR_AUTH
        )
        assert response.status_code == 201, response.text
    return live_emulator


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    fakes = make_fakes(tmp_path / "fakes")
    fakes.add_merged_pull(MERGE_SHA, PR_NUMBER)
    return fakes


def _run(tmp_path: Path, remote: str, fakes: Fakes, *, base_policy: bool = True) -> Run:
    trees = {
        "head": _tree(tmp_path / "head", head=True),
        "base": _tree(tmp_path / "base", head=False, policy=base_policy),
    }
    environment_secrets = {
        "WORKOS_API_KEY": EMULATOR_API_KEY,
        "RECONCILER_GITHUB_CLIENT_SECRET": SECRET,
    }
    return Run(
        root=tmp_path / "run",
        trees=trees,
        secrets={
            None: {"WORKOS_PLAN_API_KEY": EMULATOR_API_KEY},
            "production-plan": environment_secrets,
            "production": environment_secrets,
        },
        variables={},
        machine_env={**fakes.env(), "WORKOS_BASE_URL": remote},
        installed={"bin": str(Path(sys.executable).parent), "version": "0.1.0"},
    )


def _pull_request(head_repository: str = REPOSITORY) -> dict[str, Any]:
    return {
        "pull_request": {
            "number": PR_NUMBER,
            "head": {"repo": {"full_name": head_repository}},
            "base": {"sha": BASE_SHA},
        }
    }


def _remote(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    listed = httpx.get(f"{url}/data-integrations", headers=EMULATOR_AUTH).json()["data"]
    return {(item["slug"], item["ownership"]): item for item in listed}


def test_the_if_evaluator() -> None:
    context = {"steps": {"a": {"outputs": {"x": "true"}}}, "github": {"ref": "refs/heads/main"}}
    assert evaluate("steps.a.outputs.x == 'true'", context, failed=False)
    assert not evaluate("steps.a.outputs.x == 'true'", context, failed=True)
    assert evaluate("always() && steps.a.outputs.x != 'false'", context, failed=True)
    either = "(github.ref == 'refs/heads/x'\n || github.ref == 'refs/heads/main')"
    assert evaluate(either, context, failed=False)
    assert not evaluate("github.ref == 'refs/heads/x'", context, failed=False)
    assert not evaluate("!(github.ref == 'refs/heads/main')", context, failed=False)
    assert evaluate("failure()", context, failed=True)


def test_a_pull_request_from_a_fork_is_not_planned(
    tmp_path: Path, remote: str, fakes: Fakes
) -> None:
    workflow = _load(GITHUB)
    run = _run(tmp_path, remote, fakes)
    run.secrets = {}  # GitHub gives a fork's pull request no secret at all
    job = run_job(
        workflow,
        "plan",
        run,
        event_name="pull_request",
        event=_pull_request("someone/fork"),
        ref=f"refs/pull/{PR_NUMBER}/merge",
        sha=MERGE_SHA,
    )
    assert job.ran and job.failed is None, job.log
    assert "Plans of forks are not run" in job.summary
    assert "Plan" in job.skipped, "the plan step is skipped, not failed"
    assert fakes.github()["comments"] == [] and fakes.github()["calls"] == []
    assert not (tmp_path / "run" / "plan" / "workspace" / "integrations").exists(), "no checkout"


def _plan_pull_request(tmp_path: Path, remote: str, fakes: Fakes, **options: bool) -> JobRun:
    job = run_job(
        _load(GITHUB),
        "plan",
        _run(tmp_path, remote, fakes, **options),
        event_name="pull_request",
        event=_pull_request(),
        ref=f"refs/pull/{PR_NUMBER}/merge",
        sha=MERGE_SHA,
    )
    assert job.ran, "a pull request runs the plan job"
    return job


@NO_SECRETS
def test_a_pull_request_is_planned_without_secrets(
    tmp_path: Path, remote: str, fakes: Fakes
) -> None:
    before = _remote(remote)
    job = _plan_pull_request(tmp_path, remote, fakes)
    assert job.failed is None, job.log
    assert job.steps["plan"]["outputs"]["has-changes"] == "true"
    assert "--no-secrets" in job.log and "--baseline .trusted-base/integrations/base" in job.log
    assert SECRET not in job.log and SECRET[-4:] not in job.summary
    plan_path = Path(job.steps["plan"]["outputs"]["plan-path"])
    assert plan_path.is_relative_to(tmp_path / "run" / "plan" / "runner-temp")
    (comment,) = fakes.github()["comments"]
    assert comment["issue"] == PR_NUMBER
    assert '~ description: "GitHub app" → "Production GitHub app"' in comment["body"] or (
        "Production GitHub app" in comment["body"]
    )
    assert (
        "**Adopted** (not in the baseline; will be managed; no change): `notion` (user)."
        in (comment["body"])
    )
    assert "policy /" in comment["body"] and "runner-temp/reconciler-policy.yaml" in comment["body"]
    assert _remote(remote) == before, "a plan changes nothing"


@NO_SECRETS
def test_a_policy_missing_on_the_base_branch_plans_under_the_default(
    tmp_path: Path, remote: str, fakes: Fakes
) -> None:
    job = _plan_pull_request(tmp_path, remote, fakes, base_policy=False)
    assert job.failed is None, job.log
    message = "The base branch has no .github/reconciler-policy.yaml: this plan runs under the "
    assert message + "default policy" in job.summary
    (comment,) = fakes.github()["comments"]
    assert "Policy: the default policy" in comment["body"], "never the pull request's own copy"


def _merge(tmp_path: Path, remote: str, fakes: Fakes) -> tuple[Run, JobRun]:
    run = _run(tmp_path, remote, fakes)
    push = {"event_name": "push", "event": {}, "ref": "refs/heads/main", "sha": MERGE_SHA}
    saved = run_job(_load(GITHUB), "plan-production", run, **push)  # type: ignore[arg-type]
    assert saved.ran and saved.failed is None, saved.log
    assert saved.environment == "production-plan"
    assert saved.outputs == {"has-changes": "true"}
    return run, saved


def _apply(run: Run, saved: JobRun) -> JobRun:
    workflow = _load(GITHUB)
    assert workflow["jobs"]["apply"]["environment"] == "production", "approved by reviewers"
    return run_job(
        workflow,
        "apply",
        run,
        event_name="push",
        event={},
        ref="refs/heads/main",
        sha=MERGE_SHA,
        needs={"plan-production": saved},
    )


def test_a_merge_plans_then_applies_exactly_the_approved_artifact(
    tmp_path: Path, remote: str, fakes: Fakes
) -> None:
    run, saved = _merge(tmp_path, remote, fakes)
    assert "### reconciler plan" in saved.summary and "Production GitHub app" in saved.summary
    (artifact,) = (run.artifacts / f"plan-{MERGE_SHA}").iterdir()
    assert artifact.name == "plan.json"
    shown = subprocess.run(
        [sys.executable, "-m", "reconciler", "show", str(artifact), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    approved = json.loads(shown.stdout)
    assert [(c["action"], c["slug"]) for c in approved["changes"]] == [("update", "github")]
    assert approved["saved"]["manifest"]["files"][0].endswith("integrations/base/integrations.yaml")

    applied = _apply(run, saved)
    assert applied.ran and applied.failed is None, applied.log
    assert _remote(remote)[("github", "user")]["description"] == "Production GitHub app"
    assert "Apply complete: 1 succeeded, 0 failed, 0 skipped." in applied.log
    (comment,) = fakes.github()["comments"]
    assert comment["issue"] == PR_NUMBER, "the results go to the merged pull request"
    assert comment["body"].startswith("<!-- workos-pipes-reconciler:apply -->\n")
    assert "Apply complete" in comment["body"]
    assert "### reconciler apply" in applied.summary


def test_a_stale_artifact_is_refused(tmp_path: Path, remote: str, fakes: Fakes) -> None:
    run, saved = _merge(tmp_path, remote, fakes)
    changed = httpx.put(
        f"{remote}/data-integrations/github",
        json={"description": "changed by hand before the approval"},
        headers=EMULATOR_AUTH,
    )
    assert changed.status_code == 200, changed.text
    applied = _apply(run, saved)
    assert applied.failed == "Apply exactly the approved plan", applied.log
    assert applied.steps["apply"]["outputs"]["exit-code"] == "3"
    assert "stale plan: github (user) changed since the plan" in applied.log
    description = _remote(remote)[("github", "user")]["description"]
    assert description == "changed by hand before the approval", "nothing was applied"


def test_no_changes_no_apply(tmp_path: Path, remote: str, fakes: Fakes) -> None:
    """A merge that changes nothing remote saves no plan, and the apply job does not run."""
    run = _run(tmp_path, remote, fakes)
    shutil.rmtree(run.trees["head"])
    _tree(run.trees["head"], head=False)
    saved = run_job(
        _load(GITHUB),
        "plan-production",
        run,
        event_name="push",
        event={},
        ref="refs/heads/main",
        sha=MERGE_SHA,
    )
    assert saved.failed is None and saved.outputs == {"has-changes": "false"}, saved.log
    applied = _apply(run, saved)
    assert not applied.ran


def test_the_pull_request_job_gives_the_tool_no_secret(
    tmp_path: Path, remote: str, fakes: Fakes
) -> None:
    """With a recording ``reconciler``: the command line the pull-request job builds (no
    secrets, the baseline, the base branch's policy from outside the checkout) and the
    environment it gets (the plan key, no client secret, no token)."""
    run = _run(tmp_path, remote, fakes)
    run.installed = fakes.installed()
    job = run_job(
        _load(GITHUB),
        "plan",
        run,
        event_name="pull_request",
        event=_pull_request(),
        ref=f"refs/pull/{PR_NUMBER}/merge",
        sha=MERGE_SHA,
    )
    assert job.failed is None, job.log
    (call,) = fakes.calls()
    arguments = call["arguments"]
    temp = tmp_path / "run" / "plan" / "runner-temp"
    assert arguments[arguments.index("--policy") + 1] == str(temp / "reconciler-policy.yaml")
    assert (temp / "reconciler-policy.yaml").read_text() == POLICY
    assert "--no-secrets" in arguments
    baselines = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--baseline"]
    assert baselines == [".trusted-base/integrations/base", ".trusted-base/integrations/production"]
    assert call["env"] == {
        "GH_TOKEN": None,
        "GITHUB_TOKEN": None,
        "WORKOS_API_KEY": "sk_test_emulator",
    }
    assert Path(arguments[arguments.index("--out") + 1]).is_relative_to(temp)
