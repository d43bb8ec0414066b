"""GitHub Actions on apply: the step summary shows each action's outcome, each failed
action is an ``::error``, and the unmanaged integrations are one ``::notice``."""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.emulator.app import create_app
from tests.support import invoke
from tests.support.refusals import UNKNOWN_ACCOUNT, RefusesCreates

SEED = [
    {"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}},
    {"provider": "asana", "ownership": "user", "credentials": {"type": "organization"}},
    {
        "provider": "snowflake",
        "ownership": "user",
        "auth_methods": ["api_key"],
        "config": {"account": "acct"},
    },
]
MANIFEST = """\
version: 1
integrations:
  - slug: slack
    credentials: {type: organization}
  - slug: snowflake
    auth_methods: [api_key]
    config: {account: other}
"""


def _apply(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(MANIFEST)
    summary = tmp_path / "summary.md"
    refusing = RefusesCreates(httpx.ASGITransport(app=create_app(seed=SEED)), '"other"')
    result = invoke(
        None,
        "apply",
        "-f",
        str(manifest),
        *args,
        transport=refusing,
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
    )
    return result.exit_code, result.stderr, summary.read_text() if summary.exists() else ""


def test_a_failed_apply_summarises_each_outcome_and_annotates_each_failure(
    tmp_path: Path,
) -> None:
    code, stderr, summary = _apply(tmp_path, "--yes")

    assert code == 1
    assert summary.startswith("### reconciler apply\n")
    assert "reconciler plan" not in summary
    assert "**Apply complete:** 1 succeeded, 1 failed, 0 skipped" in summary
    assert "| ❌ **FAILED** | replace | `snowflake` | user |" in summary
    assert UNKNOWN_ACCOUNT in summary
    assert "restored as a new integration" in summary  # what the failed replace left
    assert "| ✅ ok | create | `slack` | user |" in summary
    errors = [line for line in stderr.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=apply failed::replace snowflake (user) failed: ")
    notices = [line for line in stderr.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1
    assert "2 integrations in WorkOS but not in the manifest were left alone" in notices[0]
    assert "asana (user), notion (user)" in notices[0]
    assert not [line for line in stderr.splitlines() if line.startswith("::warning")]


def test_a_dry_run_summary_says_nothing_was_applied(tmp_path: Path) -> None:
    code, stderr, summary = _apply(tmp_path, "--dry-run")
    assert code == 0
    assert summary.startswith("### reconciler apply: nothing was applied\n")
    assert "1 to replace, 0 to delete, 1 to create" in summary
    assert "::error" not in stderr
