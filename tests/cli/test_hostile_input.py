"""Hostile manifests through the real CLI, each in its own process: refused with a located
message, no traceback, no API request, and a peak RSS under 200 MB. Alias bombs of long
strings through the loader too, and a large manifest that shares fields through merge keys,
which is not refused.

Memory is asserted here; wall time is not (tests are not timed): ``python
benchmarks/corpus.py`` measures both, for these and every case of the corpus.
"""

from __future__ import annotations

import os
import re
import sys
import tracemalloc
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load
from reconciler.models import Desired
from tests.support import REPO_ROOT
from tests.support.hostile import (
    ALIAS_BOMBS,
    CASE_NAMES,
    MIB,
    HostileCase,
    Measured,
    refusal_problems,
    run_measured,
    write_hostile_cases,
)

MEMORY_BUDGET_MB = 200.0
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens there: a request would fail loudly
# Output is scrubbed of the key past its sk_test_: that must be no word of a temporary path.
API_KEY = "sk_test_3f9c2a7e5d1b8406"


@pytest.fixture(scope="module")
def hostile_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HostileCase]:
    directory = tmp_path_factory.mktemp("hostile")
    return {case.name: case for case in write_hostile_cases(directory)}


def _environ() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKOS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update({"NO_COLOR": "1", "WORKOS_API_KEY": API_KEY, "WORKOS_BASE_URL": CLOSED_PORT_URL})
    return env


def _run(command: str, manifest: Path, output_dir: Path) -> Measured:
    argv = [sys.executable, "-m", "reconciler", command, "-f", str(manifest)]
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
    run = _run(command, case.path, tmp_path)
    assert not run.timed_out
    assert run.exit_code == 1, run.stderr[-2000:]
    assert refusal_problems(run.stderr, str(case.path)) == [], run.stderr[-2000:]
    assert case.expect in run.stderr
    assert run.stdout == ""
    assert run.peak_rss_mb < MEMORY_BUDGET_MB, f"{run.peak_rss_mb:.0f} MB"


ALIAS_REFUSAL = re.compile(
    r"(\d+):(\d+): aliases expand this document beyond [\d,]+ bytes; refused"
)


@pytest.mark.parametrize("name", ALIAS_BOMBS)
def test_an_alias_bomb_of_long_strings_is_refused_at_an_alias(
    name: str, hostile_cases: dict[str, HostileCase], tmp_path: Path
) -> None:
    case = hostile_cases[name]
    run = _run("validate", case.path, tmp_path)
    assert run.exit_code == 1, run.stderr[-2000:]
    refusal, last = run.stderr.splitlines()
    assert refusal.startswith(f"{case.path}:")
    located = ALIAS_REFUSAL.fullmatch(refusal.removeprefix(f"{case.path}:"))
    assert located is not None and int(located[1]) > 3, refusal
    assert last == "Error: the manifest has 1 problem."
    assert run.peak_rss_mb < MEMORY_BUDGET_MB, f"{run.peak_rss_mb:.0f} MB"


def _load_traced(paths: list[Path]) -> tuple[Desired | ManifestError, float]:
    """What loading ``paths`` gives (or raises), and the peak of Python's allocations (MB)."""
    outcome: Desired | ManifestError
    tracemalloc.start()
    try:
        outcome = load(paths, environ={})
    except ManifestError as error:
        outcome = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak / MIB


@pytest.mark.parametrize("name", ALIAS_BOMBS)
def test_the_loader_refuses_an_alias_bomb_of_long_strings(
    name: str, hostile_cases: dict[str, HostileCase]
) -> None:
    case = hostile_cases[name]
    error, peak_mb = _load_traced([case.path])
    assert isinstance(error, ManifestError)
    (problem,) = error.problems
    assert problem.file == str(case.path)
    assert ALIAS_REFUSAL.fullmatch(f"{problem.line}:{problem.column}: {problem.message}")
    assert problem.line > 3 and problem.column > 0
    assert peak_mb < MEMORY_BUDGET_MB, f"{peak_mb:.0f} MB"


def _shared_fields_manifest(count: int) -> str:
    """``count`` integrations, each merging the fields of the first (``<<: *common``)."""
    common = (
        "  - &common\n"
        "    slug: common\n"
        "    description: Shared by every integration of the Acme platform team\n"
        "    enabled: true\n"
        "    scopes: [repo, read:org, user:email]\n"
        "    credentials:\n"
        "      type: organization\n"
    )
    entries = "".join(f"  - <<: *common\n    slug: app-{i:05}\n" for i in range(count))
    return f"version: 1\nintegrations:\n{common}{entries}"


def test_a_large_manifest_sharing_fields_through_merge_keys_is_not_refused(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "shared.yaml"
    manifest.write_text(_shared_fields_manifest(9_999))  # 10,000 integrations: the cap
    desired, peak_mb = _load_traced([manifest])
    assert isinstance(desired, Desired), desired
    assert peak_mb < MEMORY_BUDGET_MB, f"{peak_mb:.0f} MB"
    assert len(desired.integrations) == 10_000
    last = desired.integrations[-1]
    assert last.identity == ("app-09998", "user")
    assert last.spec.description == "Shared by every integration of the Acme platform team"
    run = _run("validate", manifest, tmp_path)
    assert run.exit_code == 0, run.stderr
    warnings = run.stderr.splitlines()  # custom slugs defined nowhere: one line each, capped
    assert len(warnings) == 11 and "9990 more slugs are not a built-in provider" in warnings[-1]
    assert "10000 integrations" in run.stdout
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
