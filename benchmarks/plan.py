"""The plan benchmark: ``reconciler plan`` of 100 to 10,000 integrations next to its floor.

Each size's workload has 1% of its integrations changed; the plan and the
floor (``floor.py``: the pages fetched by a bare httpx loop and the manifest
parsed by PyYAML's C loader, nothing else) run against the same emulator,
interleaved so that noise from other processes falls on both, the best of
``--repeat`` runs kept. Request counts come from the emulator's stats.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.emulator import request_delta, running_emulator
from benchmarks.harness import (
    CHANGED_SHARE,
    LIST_ROUTE,
    LIST_SLACK,
    ROOT,
    Settings,
    Target,
    Timing,
    check_plan_output,
    child_env,
    only_list_pages,
    pages_of,
    plan_argv,
    reconciler_command,
)
from benchmarks.measure import ChildRun, run_child
from benchmarks.workload import Workload, write_plan_workload

FLOOR_SCRIPT = ROOT / "benchmarks" / "floor.py"
SIZES = (100, 1_000, 10_000)
CHECKED_SIZE = 10_000
"""The size the targets are checked at."""
TARGET_RSS_MB = 250.0
TARGET_FLOOR_RATIO = 1.5


@dataclass(frozen=True)
class PlanCase:
    """One workload planned: the plan's and the floor's times, memory and requests."""

    integrations: int
    changed: int
    manifest_bytes: int
    plan_seconds: Timing
    floor_seconds: Timing
    floor_ratio: float
    floor_ratio_median: float
    peak_rss_mb: float
    floor_peak_rss_mb: float
    requests: dict[str, int]
    pages: int
    list_requests_max: int
    list_requests: list[int]
    requests_within: bool

    def row(self) -> list[str]:
        return [
            f"{self.integrations:,}",
            report.seconds(self.plan_seconds.best),
            report.seconds(self.floor_seconds.best),
            f"{self.floor_ratio:.2f}×",
            report.requests(self.requests) + ("" if self.requests_within else " ⚠"),
            f"{self.peak_rss_mb:.0f} MB",
            f"{self.floor_peak_rss_mb:.0f} MB",
        ]


HEADER = (
    "Integrations",
    "Wall time",
    "Floor",
    "× floor",
    "HTTP requests",
    "Peak RSS",
    "Floor's RSS",
)
FLOOR_NOTE = (
    "Floor: a bare httpx loop fetching the same pages (decoding each to follow its "
    "cursor) plus `yaml.load(manifest, CSafeLoader)`, in a process of its own."
)


@dataclass(frozen=True)
class PlanResult:
    """The plan table: one case per size."""

    cases: list[PlanCase]

    def json(self) -> object:
        return [asdict(case) for case in self.cases]

    def table(self) -> list[str]:
        lines = ["", "**plan** (1% of integrations changed; emulator over loopback, no latency)"]
        lines += ["", *report.table(HEADER, [case.row() for case in self.cases])]
        return [*lines, "", FLOOR_NOTE]

    def targets(self) -> list[Target]:
        largest = next((c for c in self.cases if c.integrations == CHECKED_SIZE), None)
        if largest is None:
            return []
        return [
            Target(
                f"plan {CHECKED_SIZE:,}: at most pages + {LIST_SLACK} = "
                f"{largest.list_requests_max} list requests, nothing else",
                ", ".join(f"{k} ×{v}" for k, v in largest.requests.items()),
                largest.requests_within,
            ),
            Target(
                f"plan {CHECKED_SIZE:,}: peak RSS < {TARGET_RSS_MB:g} MB",
                f"{largest.peak_rss_mb:.0f} MB",
                largest.peak_rss_mb < TARGET_RSS_MB,
            ),
            Target(
                f"plan {CHECKED_SIZE:,}: ≤ {TARGET_FLOOR_RATIO}× the floor",
                f"{largest.floor_ratio:.2f}×",
                largest.floor_ratio <= TARGET_FLOOR_RATIO,
            ),
        ]


def run(settings: Settings, workdir: Path, sizes: tuple[int, ...] = SIZES) -> PlanResult:
    cases = []
    for size in sizes:
        work = write_plan_workload(workdir / f"plan-{size}", size, changed_share=CHANGED_SHARE)
        cases.append(measure(work, settings, workdir))
    return PlanResult(cases)


def measure(work: Workload, settings: Settings, workdir: Path) -> PlanCase:
    """Plan ``work`` and run the floor, interleaved, best of ``settings.repeat``."""
    size = work.integrations
    command = reconciler_command()
    floor_argv = [sys.executable, str(FLOOR_SCRIPT)]
    plan_runs: list[ChildRun] = []
    floor_runs: list[ChildRun] = []
    deltas: list[dict[str, int]] = []
    with running_emulator(
        command, seed=work.seed, latency_ms=0, workdir=workdir, env=child_env()
    ) as emulator:
        env = child_env(emulator.base_url)
        if emulator.stats()["integrations"] != size:
            raise RuntimeError(
                f"the emulator holds {emulator.stats()['integrations']} integrations"
            )
        for round_ in range(settings.warmup + settings.repeat):
            first_floor = round_ % 2 == 0
            for kind in ("floor", "plan") if first_floor else ("plan", "floor"):
                if kind == "floor":
                    run = run_child(
                        [*floor_argv, emulator.base_url, str(work.manifest)],
                        env=env,
                        workdir=workdir,
                    )
                    if run.stdout.strip() != f"{size} remote, {size} desired":
                        raise RuntimeError(f"unexpected floor output: {run.stdout!r}")
                    if round_ >= settings.warmup:
                        floor_runs.append(run)
                    continue
                before = emulator.requests()
                run = run_child(
                    plan_argv(command, work.manifest), env=env, workdir=workdir, expect=(2,)
                )
                deltas.append(request_delta(before, emulator.requests()))
                check_plan_output(run, size, work.changed)
                if round_ >= settings.warmup:
                    plan_runs.append(run)
    pages = pages_of(size)
    plan_time = Timing.of([r.seconds for r in plan_runs])
    floor_time = Timing.of([r.seconds for r in floor_runs])
    return PlanCase(
        integrations=size,
        changed=work.changed,
        manifest_bytes=work.manifest.stat().st_size,
        plan_seconds=plan_time,
        floor_seconds=floor_time,
        floor_ratio=plan_time.best / floor_time.best,
        floor_ratio_median=plan_time.median / floor_time.median,
        peak_rss_mb=max(r.peak_rss_mb for r in plan_runs),
        floor_peak_rss_mb=max(r.peak_rss_mb for r in floor_runs),
        requests=deltas[-1],
        pages=pages,
        list_requests_max=pages + LIST_SLACK,
        list_requests=[delta.get(LIST_ROUTE, 0) for delta in deltas],
        requests_within=all(only_list_pages(delta, pages) for delta in deltas),
    )
