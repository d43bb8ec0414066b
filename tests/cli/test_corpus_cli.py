"""Every broken manifest of the corpus, through `plan`: exit 1, located messages,
no traceback, and not a single API request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.emulator.app import create_app
from tests.support import CORPUS, invoke, run, stats

CASES = sorted((CORPUS / "invalid").glob("*.yaml")) + sorted(
    p for p in (CORPUS / "multi").iterdir() if p.is_dir()
)
LOCATED = re.compile(r"^(?P<file>[^:]+)(:\d+:\d+)?: \S")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_manifest_is_refused_before_any_request(case: Path) -> None:
    app = create_app()
    result = invoke(app, "plan", "-f", str(case))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Error: the manifest has ")
    for line in lines[:-1]:
        assert LOCATED.match(line), line
        assert line.startswith(str(case)), line
    assert sum(run(stats(app))["by_method"].values()) == 0
