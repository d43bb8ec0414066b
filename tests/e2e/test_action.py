"""The composite GitHub Action (``action.yml``), its steps run by ``run_action``
(tests/support/action.py) with fake ``reconciler`` and ``gh`` that record what they were
given, so exit codes, arguments and the sticky comment are checked in milliseconds;
tests/e2e/test_dist.py runs the same steps with the real wheel against the emulator,
the install step included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.action import (
    DISTRIBUTION,
    PULL_REQUEST,
    REPOSITORY,
    TOKEN,
    ActionRun,
    Fakes,
    make_fakes,
    run_action,
)

BOT = "github-actions[bot]"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return make_fakes(tmp_path / "fakes")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def fake_run(
    fakes: Fakes,
    workspace: Path,
    inputs: Mapping[str, str],
    *,
    exit_code: int = 0,
    report: str = "",
    event: Mapping[str, Any] | None = None,
    **env: str,
) -> ActionRun:
    return run_action(
        inputs,
        workspace=workspace,
        runner_temp=workspace.parent / "runner-temp",
        env=fakes.env(FAKE_EXIT=str(exit_code), FAKE_REPORT=report, **env),
        event=event,
        installed=fakes.installed(),
        timeout=60,
    )


# --- runs, with the fakes -----------------------------------------------------------------


def test_plan_arguments_and_outputs(fakes: Fakes, workspace: Path) -> None:
    runner_temp = workspace.parent / "runner-temp"
    run = fake_run(
        fakes,
        workspace,
        {
            "manifests": "integrations/base\n  integrations/production ",
            "environment": "production",
            "policy": ".github/reconciler-policy.yaml",
            "plan-file": "plan.json",
            "args": "--target crm-* --target $HOME",
        },
        exit_code=2,
        report="Plan: 1 to create.\n",
        WORKOS_API_KEY="sk_test_key",
    )
    assert run.failed is None, run.log
    (call,) = fakes.calls()
    assert call["arguments"] == [
        "plan",
        *("-f", "integrations/base", "-f", "integrations/production"),
        *("--policy", ".github/reconciler-policy.yaml"),
        *("--environment", "production", "--format", "text"),
        *("--out", str(runner_temp / "plan.json"), "--detailed-exitcode"),
        *("--target", "crm-*", "--target", "$HOME"),
    ], "no globbing, no expansion"
    assert call["cwd"] == str(workspace)
    assert call["env"] == {"GH_TOKEN": None, "GITHUB_TOKEN": None, "WORKOS_API_KEY": "sk_test_key"}
    assert run.outputs["exit-code"] == "2"
    assert run.outputs["has-changes"] == "true"
    assert run.outputs["plan-path"] == str(runner_temp / "plan.json"), "never in the checkout"
    assert Path(run.outputs["report-path"]).read_text() == "Plan: 1 to create.\n"
    assert Path(run.outputs["report-path"]).is_relative_to(runner_temp)
    assert run.outputs["report-path"].endswith(".txt")
    assert run.outputs["version"] == "0.1.0"
    assert "Plan: 1 to create." in run.log, "the report is in the log too"
    assert not fakes.github()["calls"], "no comment unless asked"


@pytest.mark.parametrize(
    ("command", "code", "fail_on_changes", "failed", "has_changes"),
    [
        ("plan", 0, "false", False, "false"),
        ("plan", 2, "false", False, "true"),
        ("plan", 2, "true", True, "true"),
        ("plan", 0, "true", False, "false"),
        ("plan", 1, "false", True, ""),
        ("plan", 3, "false", True, ""),
        ("apply", 0, "false", False, ""),
        ("apply", 2, "false", True, ""),
        ("apply", 3, "false", True, ""),
        ("validate", 1, "false", True, ""),
    ],
)
def test_exit_codes(
    fakes: Fakes,
    workspace: Path,
    command: str,
    code: int,
    fail_on_changes: str,
    failed: bool,
    has_changes: str,
) -> None:
    inputs = {"command": command, "fail-on-changes": fail_on_changes}
    run = fake_run(fakes, workspace, inputs, exit_code=code)
    assert run.outputs["exit-code"] == str(code)
    assert run.outputs["has-changes"] == has_changes
    assert run.failed == ("Exit status" if failed else None), run.log
    if failed:
        assert "::error title=reconciler::" in run.log


def test_apply_and_validate_arguments(fakes: Fakes, workspace: Path) -> None:
    saved = workspace.parent / "runner-temp" / "plan.json"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text("{}")
    apply = fake_run(
        fakes,
        workspace,
        {"command": "apply", "manifests": "m.yaml", "plan-file": "plan.json", "format": "json"},
    )
    assert apply.failed is None, apply.log
    assert apply.outputs["plan-path"] == str(saved)
    assert apply.outputs["report-path"].endswith(".json")
    now = fake_run(fakes, workspace, {"command": "apply", "environment": "staging"})
    assert now.outputs["plan-path"] == ""
    validate = fake_run(
        fakes,
        workspace,
        {"command": "validate", "manifests": "m.yaml", "environment": "x", "policy": "p.yaml"},
    )
    assert validate.failed is None, validate.log
    assert validate.outputs["plan-path"] == ""
    assert fakes.arguments() == [
        ["apply", "-f", "m.yaml", "--format", "json", "--plan", str(saved), "--yes"],
        ["apply", "--environment", "staging", "--format", "text", "--yes"],
        ["validate", "-f", "m.yaml", "--policy", "p.yaml"],
    ]


def test_plan_file_defaults_to_the_runner_temp(fakes: Fakes, workspace: Path) -> None:
    run = fake_run(fakes, workspace, {"working-directory": "."})
    (arguments,) = fakes.arguments()
    out = Path(arguments[arguments.index("--out") + 1])
    assert out.is_relative_to(workspace.parent / "runner-temp")
    assert run.outputs["plan-path"] == str(out)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "destroy"}, "command must be plan, apply or validate, not 'destroy'"),
        ({"format": "yaml"}, "format must be text, markdown or json, not 'yaml'"),
        ({"comment": "yes"}, "comment must be true or false, not 'yes'"),
        ({"fail-on-changes": "1"}, "fail-on-changes must be true or false, not '1'"),
        ({"comment": "true", "format": "text"}, "comment: true needs format: markdown"),
    ],
)
def test_bad_inputs_fail_before_running(
    fakes: Fakes, workspace: Path, inputs: dict[str, str], message: str
) -> None:
    run = fake_run(fakes, workspace, inputs)
    assert run.failed == "Run reconciler"
    assert f"::error title=reconciler action::{message}" in run.log
    assert fakes.calls() == []


def _marker(key: str = "plan") -> str:
    return f"<!-- {DISTRIBUTION}:{key} -->"


def test_the_sticky_comment(fakes: Fakes, workspace: Path) -> None:
    fakes.add_comment("someone", _marker() + "\nplanted by someone else")
    fakes.add_comment(BOT, "an unrelated comment of the bot")
    fakes.add_comment(BOT, _marker("staging") + "\nanother environment's plan")
    fakes.add_comment(BOT, _marker() + "\nthe plan", issue=8)
    inputs = {"comment": "true"}

    first = fake_run(
        fakes, workspace, inputs, exit_code=2, report="## plan 1\n", event=PULL_REQUEST
    )
    assert first.failed is None, first.log
    assert fakes.arguments()[0][fakes.arguments()[0].index("--format") + 1] == "markdown"
    ours = [c for c in fakes.github()["comments"] if c["body"].startswith(_marker() + "\n")]
    posted = [c for c in ours if c["user"]["login"] == BOT and c["issue"] == 7]
    assert len(posted) == 1 and posted[0]["body"] == _marker() + "\n## plan 1\n"
    assert first.outputs["comment-url"].endswith(f"/pull/7#issuecomment-{posted[0]['id']}")

    second = fake_run(fakes, workspace, inputs, report="## plan 2\n", event=PULL_REQUEST)
    assert second.outputs["comment-url"] == first.outputs["comment-url"], "edited, not added"
    comments = {c["id"]: c for c in fakes.github()["comments"]}
    assert comments[posted[0]["id"]]["body"] == _marker() + "\n## plan 2\n"
    assert len(comments) == 5
    assert [c["body"].splitlines()[-1] for c in comments.values()] == [
        "planted by someone else",
        "an unrelated comment of the bot",
        "another environment's plan",
        "the plan",
        "## plan 2",
    ]
    calls = fakes.github()["calls"]
    assert [call["method"] for call in calls] == ["GET", "POST", "GET", "PATCH"]
    assert all(call["token"] == TOKEN and call["host"] == "github.com" for call in calls)
    assert calls[0]["paginate"] is True
    assert all(call["env"]["GH_TOKEN"] is None for call in fakes.calls())


def test_a_failed_plan_replaces_the_comment_with_a_pointer_to_the_log(
    fakes: Fakes, workspace: Path
) -> None:
    inputs = {"comment": "true", "comment-key": "prod_1.x"}
    fake_run(fakes, workspace, inputs, exit_code=2, report="## plan\n", event=PULL_REQUEST)
    failed = fake_run(fakes, workspace, inputs, exit_code=1, event=PULL_REQUEST)
    assert failed.failed == "Exit status"
    assert failed.outputs["exit-code"] == "1"
    (comment,) = fakes.github()["comments"]
    assert comment["body"] == (
        f"{_marker('prod_1.x')}\n### reconciler plan failed\n\n"
        f"Exit code 1: see [the log](https://github.com/{REPOSITORY}/actions/runs/4242).\n"
    )


def test_comments_only_on_a_pull_request(fakes: Fakes, workspace: Path) -> None:
    run = fake_run(fakes, workspace, {"comment": "true"}, report="## plan\n", event={})
    assert run.failed is None
    assert "::notice title=reconciler action::not a pull request: no comment" in run.log
    assert fakes.github()["calls"] == []
    assert run.outputs["comment-url"] == ""


def test_a_comment_key_cannot_break_out_of_the_marker(fakes: Fakes, workspace: Path) -> None:
    inputs = {"comment": "true", "comment-key": "x --> <img src=x>"}
    run = fake_run(fakes, workspace, inputs, report="## plan\n", event=PULL_REQUEST)
    assert run.failed == "Comment on the pull request"
    assert fakes.github()["calls"] == []
