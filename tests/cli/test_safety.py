"""The delete threshold end to end: at, just under and just over the limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.app import create_app
from tests.support import invoke, run, stats, writes


def _seed(count: int) -> list[dict[str, Any]]:
    return [
        {
            "provider": f"crm-{i:02d}",
            "custom_provider": {
                "name": f"CRM {i}",
                "authorization_url": "https://crm.example/authorize",
                "token_url": "https://crm.example/token",
            },
            "credentials": {"type": "organization"},
        }
        for i in range(count)
    ]


def _manifest(path: Path, kept: int, fraction: float | None = None) -> None:
    lines = ["version: 1", "settings:", "  prune: true"]
    if fraction is not None:
        lines.append(f"  max_delete_fraction: {fraction}")
    lines.append("integrations:" if kept else "integrations: []")
    lines += [f"  - slug: crm-{i:02d}" for i in range(kept)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("existing", "deleted", "fraction", "refused"),
    [
        (20, 5, None, False),  # just under 30%
        (20, 6, None, False),  # at the limit
        (20, 7, None, True),  # just over
        (10, 1, 0.0, True),  # a zero budget refuses any delete
        (9, 9, None, False),  # under 10 managed integrations there is no threshold
    ],
)
def test_threshold(
    tmp_path: Path, existing: int, deleted: int, fraction: float | None, refused: bool
) -> None:
    app = create_app(seed=_seed(existing))
    path = tmp_path / "m.yaml"
    _manifest(path, existing - deleted, fraction)
    planned = invoke(app, "plan", "-f", str(path))
    applied = invoke(app, "apply", "-f", str(path), "--yes")
    if refused:
        for result in (planned, applied):
            assert result.exit_code == 3, result.output
            assert f"deletes or replaces {deleted} of {existing} managed" in result.stderr
            assert "--force" in result.stderr
        assert writes(app) == 0
        forced = invoke(app, "apply", "-f", str(path), "--yes", "--force")
        assert forced.exit_code == 0, forced.output
    else:
        assert planned.exit_code == 0, planned.output
        assert applied.exit_code == 0, applied.output
    assert run(stats(app))["integrations"] == existing - deleted


def test_a_refused_plan_says_so_in_every_format(tmp_path: Path) -> None:
    import json

    app = create_app(seed=_seed(10))
    path = tmp_path / "m.yaml"
    _manifest(path, 6)
    summary = tmp_path / "summary.md"
    as_json = invoke(
        app,
        "plan",
        "-f",
        str(path),
        "--format",
        "json",
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
    )
    assert as_json.exit_code == 3
    (warning,) = json.loads(as_json.stdout)["warnings"]
    assert "deletes or replaces 4 of 10" in warning
    markdown = invoke(app, "plan", "-f", str(path), "--format", "markdown")
    assert markdown.exit_code == 3
    assert "deletes or replaces 4 of 10" in markdown.stdout
    assert "deletes or replaces 4 of 10" in summary.read_text()
    assert "::error title=unsafe plan::refusing a plan" in as_json.stderr
    text = invoke(app, "apply", "-f", str(path), "--yes")
    assert text.exit_code == 3
    assert "Warning: refusing a plan that deletes or replaces 4 of 10" in text.stdout
    assert writes(app) == 0
