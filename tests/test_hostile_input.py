"""Hostile manifests through the real CLI, each in its own process: refused with a located
message, no traceback, no API request, and a peak RSS under 200 MB.

Memory is asserted here; wall time is not (tests are not timed): ``python
benchmarks/corpus.py`` measures both, for these and every case of the corpus.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.hostile import (
    CASE_NAMES,
    HostileCase,
    Measured,
    refusal_problems,
    run_measured,
    write_hostile_cases,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
MEMORY_BUDGET_MB = 200.0
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens there: a request would fail loudly


@pytest.fixture(scope="module")
def hostile_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HostileCase]:
    directory = tmp_path_factory.mktemp("hostile")
    return {case.name: case for case in write_hostile_cases(directory)}


def _environ() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKOS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(
        {"NO_COLOR": "1", "WORKOS_API_KEY": "sk_test_hostile", "WORKOS_BASE_URL": CLOSED_PORT_URL}
    )
    return env


def _run(command: str, case: HostileCase, output_dir: Path) -> Measured:
    argv = [sys.executable, "-m", "reconciler", command, "-f", str(case.path)]
    return run_measured(argv, env=_environ(), cwd=REPO_ROOT, output_dir=output_dir)


def test_every_case_is_written(hostile_cases: dict[str, HostileCase]) -> None:
    assert sorted(hostile_cases) == sorted(CASE_NAMES)
    assert hostile_cases["50-mb.yaml"].path.stat().st_size > 50 * 2**20


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_hostile_manifest_is_refused_in_bounded_memory(
    name: str, command: str, hostile_cases: dict[str, HostileCase], tmp_path: Path
) -> None:
    case = hostile_cases[name]
    run = _run(command, case, tmp_path)
    assert not run.timed_out
    assert run.exit_code == 1, run.stderr[-2000:]
    assert refusal_problems(run.stderr, str(case.path)) == [], run.stderr[-2000:]
    assert case.expect in run.stderr
    assert run.stdout == ""
    assert run.peak_rss_mb < MEMORY_BUDGET_MB, f"{run.peak_rss_mb:.0f} MB"


def test_the_harness_sees_a_traceback_and_an_unlocated_line() -> None:
    assert refusal_problems("x.yaml:1:2: bad\nError: the manifest has 1 problem.", "x.yaml") == []
    assert refusal_problems("x.yaml: too big\nError: the manifest has 1 problem.", "x.yaml") == []
    wrong = refusal_problems("Traceback (most recent call last):\nboom", "x.yaml")
    assert "a traceback" in wrong and any("unlocated" in problem for problem in wrong)
    assert refusal_problems("Error: the manifest has 1 problem.", "x.yaml") == ["no problem line"]


def test_the_harness_measures_the_command_and_not_itself(tmp_path: Path) -> None:
    ballast = bytearray(300 * 2**20)  # the harness is large: the command must not inherit it
    ballast[:: 2**12] = b"x" * len(ballast[:: 2**12])  # touch every page
    small = run_measured(
        [sys.executable, "-c", "pass"], env=_environ(), cwd=REPO_ROOT, output_dir=tmp_path
    )
    grow = "b = bytearray(250 * 2**20); b[::4096] = b'x' * len(b[::4096])"
    large = run_measured(
        [sys.executable, "-c", grow], env=_environ(), cwd=REPO_ROOT, output_dir=tmp_path
    )
    del ballast
    assert small.exit_code == 0 and small.peak_rss_mb < 100
    assert large.exit_code == 0 and large.peak_rss_mb > 250


def test_the_harness_kills_a_command_at_its_timeout(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    run = run_measured(sleeper, env=_environ(), cwd=REPO_ROOT, output_dir=tmp_path, timeout=0.5)
    assert run.timed_out
