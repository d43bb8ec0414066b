"""The CI examples follow the trust model: the plan jobs get a plan key and only the
variables the policy allows, every command runs under the policy, and apply runs
from the default branch with the production key behind a protected environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.ci_examples import (
    GITHUB,
    GITLAB,
    POLICY,
    _action_runs,
    _allowed,
    _env_globs,
    _load,
    _uses_action,
    _var_globs,
    reconciler_commands,
)

_RUNS_RECONCILER = re.compile(r"(?:^|[\s;&|(])reconciler\s+(?:validate|plan|apply|export)\b")


def _runs_reconciler(script: str) -> bool:
    return bool(_RUNS_RECONCILER.search(script))


def _under_policy(arguments: list[str], environment: dict[str, Any]) -> bool:
    return "--policy" in arguments or bool(environment.get("RECONCILER_POLICY"))


PRODUCTION_ENVIRONMENTS = {"production", "production-plan"}
"""Where the production key and the client secrets live (deployment branch: main)."""


def test_github_actions_follows_the_trust_model(tmp_path: Path) -> None:
    workflow = _load(GITHUB)
    policy_globs = _env_globs(_load(POLICY))
    var_globs = _var_globs(_load(POLICY))
    assert "pull_request_target" not in workflow["on"]
    assert "workflow_run" not in workflow["on"]
    policy_path = workflow["env"]["RECONCILER_POLICY"]
    assert policy_path.startswith(".github/")
    for event in ("pull_request", "push"):
        assert policy_path in workflow["on"][event]["paths"], f"a policy change runs {event}"
    assert not any("secrets." in str(value) for value in workflow["env"].values())
    jobs = workflow["jobs"]

    for name, job in jobs.items():
        env = {**workflow["env"], **job.get("env", {})}
        if re.search(r"secrets\.(WORKOS_API_KEY|RECONCILER_)", repr(job)):
            assert job.get("environment") in PRODUCTION_ENVIRONMENTS, f"{name}: key or secrets"
            assert "refs/heads/main" in job["if"], name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                with_ = step.get("with", {})
                assert with_.get("persist-credentials") is False, f"{name}: {step}"
                assert "head" not in str(with_.get("ref", "")), f"{name} checks out the PR head"
            if not _runs_reconciler(step.get("run", "")):
                continue
            step_env = {**env, **step.get("env", {})}
            assert not {"GH_TOKEN", "GITHUB_TOKEN"} & set(step_env), f"{name}: {step['name']}"
            for arguments in reconciler_commands(step["run"]):
                assert _under_policy(arguments, step_env), f"{name}: {arguments} without policy"
    for name, run in _action_runs(workflow, tmp_path):
        assert not {"GH_TOKEN", "GITHUB_TOKEN"} & set(run["step_env"]), name
        assert run["env"]["GH_TOKEN"] is None and run["env"]["GITHUB_TOKEN"] is None, name
        assert "github-token" not in run["step"].get("with", {}), f"{name}: the default token"
        assert _under_policy(run["arguments"], run["step_env"]), f"{name}: {run['arguments']}"

    plan_job = jobs["plan"]
    assert "environment" not in plan_job
    assert plan_job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert plan_job["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_PLAN_API_KEY }}"
    used = set(re.findall(r"secrets\.([A-Za-z0-9_]+)", repr(plan_job)))
    assert used == {"WORKOS_PLAN_API_KEY"}, "no client secret is given to the PR job"
    assert all(
        _allowed(variable, var_globs) and "vars." in str(value)
        for variable, value in plan_job["env"].items()
        if variable != "WORKOS_API_KEY"
    ), "the PR job gets repository variables (${var:}) only"
    for name in ("plan-production", "apply", "drift"):
        assert jobs[name]["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_API_KEY }}", name
        assert jobs[name]["environment"] in PRODUCTION_ENVIRONMENTS, name
        for variable, value in jobs[name]["env"].items():
            if variable == "WORKOS_API_KEY":
                continue
            # a secret is read as ${env:} only; a repository variable is a ${var:}
            globs = policy_globs if "secrets." in str(value) else var_globs
            assert _allowed(variable, globs), (name, variable, value)
    assert jobs["apply"]["environment"] == "production", "the protected environment: the gate"
    assert "refs/heads/main" in jobs["drift"]["if"]

    steps = plan_job["steps"]
    guard = steps[0]
    assert guard["id"] == "guard" and "head.repo.full_name" in str(guard["env"])
    assert all("steps.guard.outputs.run == 'true'" in step.get("if", "") for step in steps[1:])
    first_reconciler = min(
        i
        for i, step in enumerate(steps)
        if _runs_reconciler(step.get("run", "")) or _uses_action(step)
    )
    (base_checkout,) = [
        i
        for i, step in enumerate(steps)
        if "pull_request.base" in str(step.get("with", {}).get("ref", ""))
    ]
    checkout = steps[base_checkout]["with"]
    assert "${{ env.RECONCILER_POLICY }}" in checkout["sparse-checkout"].splitlines()
    (copy,) = [
        i
        for i, step in enumerate(steps)
        if "cp " in step.get("run", "") and "$RECONCILER_POLICY" in step.get("run", "")
    ]
    assert base_checkout < copy < first_reconciler, "the base branch's policy is used"
    assert 'RECONCILER_POLICY=$trusted" >> "$GITHUB_ENV"' in steps[copy]["run"]
    assert "$RUNNER_TEMP" in steps[copy]["run"], "the trusted copy lives outside the checkout"


def test_gitlab_ci_follows_the_trust_model() -> None:
    pipeline = _load(GITLAB)
    variables = pipeline["variables"]
    policy_path = variables["RECONCILER_POLICY"]
    assert "WORKOS_API_KEY" not in variables
    assert not any(_allowed(name, _env_globs(_load(POLICY))) for name in variables)
    jobs = {
        name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job
    }
    for name, job in jobs.items():
        env = {**variables, **job.get("variables", {})}
        for script in job["script"]:
            for arguments in reconciler_commands(script):
                assert _under_policy(arguments, env), f"{name}: {arguments} without policy"

    plan_job = jobs["plan"]
    assert "environment" not in plan_job
    assert plan_job["variables"] == {"WORKOS_API_KEY": "$WORKOS_PLAN_API_KEY"}
    for name in ("plan-production", "apply", "drift"):
        job = jobs[name]
        assert "WORKOS_API_KEY" not in job.get("variables", {}), f"{name}: the scoped key"
        assert job["environment"]["name"] in PRODUCTION_ENVIRONMENTS, name
        assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in job["rules"][0]["if"], name
    for name in ("plan", "plan-production", "apply"):
        assert policy_path in jobs[name]["rules"][0]["changes"], "a policy change runs the job"

    script = "\n".join(plan_job["script"])
    fetch = script.index("CI_MERGE_REQUEST_TARGET_BRANCH")
    show = script.index('git show "FETCH_HEAD:${RECONCILER_POLICY}"')
    assert fetch < show < script.index("reconciler validate"), "the target branch's policy"
    assert 'export RECONCILER_POLICY=""' in script, "no policy there: the default, said so"
