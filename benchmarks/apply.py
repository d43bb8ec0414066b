"""The apply benchmark: 200 updates at ``--latency-ms 50``, at concurrency 1, 4 and 8.

Each round runs, against the same emulator: the floor (``apply_floor.py``, a
bare httpx loop making the same PUTs), ``apply --dry-run`` and ``apply --yes``
of the next generation of descriptions, so every apply has exactly 200 updates
to make and the state never needs resetting. The dry run pays everything but
the PUTs (start-up, manifest, list, plan, printing it): apply minus dry run is
the apply phase.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.emulator import request_delta, running_emulator
from benchmarks.harness import (
    PACING_OPTION,
    PUT_ROUTES,
    ROOT,
    Settings,
    Target,
    Timing,
    child_env,
    only_list_pages,
    pages_of,
    reconciler_command,
)
from benchmarks.measure import ChildRun, run_child
from benchmarks.workload import write_apply_manifest, write_apply_seed

APPLY_FLOOR_SCRIPT = ROOT / "benchmarks" / "apply_floor.py"
UPDATES = 200
LATENCY_MS = 50
CONCURRENCY = (1, 4, 8)
TARGET_IDEAL_RATIO = 1.5
TARGET_SPEEDUP = 6.0


@dataclass(frozen=True)
class _Round:
    """One measured round at one concurrency."""

    floor: ChildRun
    apply: ChildRun
    requests: dict[str, int]


@dataclass(frozen=True)
class ApplyCase:
    """One concurrency: the apply's wall time and phase next to the ideal and the floor."""

    concurrency: int
    seconds: Timing
    phase_seconds: float
    ideal_phase_seconds: float
    ideal_ratio: float
    ideal_seconds: float
    ideal_ratio_process: float
    floor_seconds: Timing
    floor_phase_seconds: float
    floor_ideal_ratio: float
    requests: dict[str, int]
    peak_rss_mb: float


@dataclass(frozen=True)
class ApplyResult:
    """Every concurrency, and the speed-up of the highest over the lowest."""

    updates: int
    latency_ms: int
    client_options: list[str]
    client_pacing_lifted: bool
    dry_run_seconds: Timing
    cases: list[ApplyCase]
    speedup: float
    speedup_process: float
    speedup_concurrency: list[int]

    def json(self) -> object:
        return asdict(self)

    def table(self) -> list[str]:
        lines = [
            "",
            f"**apply** ({self.updates} updates, emulator `--latency-ms {self.latency_ms}`)",
            "",
        ]
        rows = [
            [
                str(case.concurrency),
                report.seconds(case.seconds.best),
                f"{case.ideal_ratio_process:.2f}×",
                report.seconds(case.phase_seconds),
                report.seconds(case.ideal_phase_seconds),
                f"**{case.ideal_ratio:.2f}×**",
                f"{case.floor_ideal_ratio:.2f}×",
                report.requests(case.requests),
            ]
            for case in self.cases
        ]
        lines += report.table(
            [
                "Concurrency",
                "Wall time",
                "× ideal (process)",
                "Apply phase",
                "Ideal",
                "× ideal",
                "Floor × ideal",
                "HTTP requests",
            ],
            rows,
        )
        low, high = self.speedup_concurrency
        options = self.client_options
        pacing = f"with `{' '.join(options)}`" if options else "with the client's default pacing"
        if self.client_pacing_lifted:
            pacing += " (the client's pacing lifted: the emulator sets no limit)"
        return [
            *lines,
            "",
            f"Apply phase = wall time − `apply --dry-run` of the same change "
            f"({report.seconds(self.dry_run_seconds.best)}: start-up, manifest, list, plan); "
            f"ideal = ⌈updates ÷ concurrency⌉ × latency. × ideal (process) compares the whole "
            f"wall time with (list pages one after another + those rounds) × latency. "
            f"Concurrency {high} is {self.speedup:.1f}× faster than {low} "
            f"({self.speedup_process:.1f}× in whole-process time). Floor: a bare httpx "
            f"loop making the same PUTs at the same concurrency. Run {pacing}.",
        ]

    def targets(self) -> list[Target]:
        fastest = self.cases[-1]
        low, high = self.speedup_concurrency
        return [
            Target(
                f"apply at concurrency {fastest.concurrency}: ≤ {TARGET_IDEAL_RATIO}× ideal "
                "(apply phase)",
                f"{fastest.ideal_ratio:.2f}× (whole process {fastest.ideal_ratio_process:.2f}×)",
                fastest.ideal_ratio <= TARGET_IDEAL_RATIO,
            ),
            Target(
                f"apply: concurrency {high} ≥ {TARGET_SPEEDUP:g}× faster than {low} (apply phase)",
                f"{self.speedup:.2f}× (whole process {self.speedup_process:.2f}×)",
                self.speedup >= TARGET_SPEEDUP,
            ),
        ]


def run(settings: Settings, workdir: Path) -> ApplyResult:
    """Apply 200 updates at ``--latency-ms 50``, at each concurrency, best of N."""
    count = UPDATES
    seed = write_apply_seed(workdir / "apply", count)
    command = reconciler_command()
    options = list(settings.apply_options) or unpaced_options(command)
    generation = 0
    dry_runs: list[float] = []
    measured: dict[int, list[_Round]] = {}
    with running_emulator(
        command, seed=seed, latency_ms=LATENCY_MS, workdir=workdir, env=child_env()
    ) as emulator:
        env = child_env(emulator.base_url)

        def counted(argv: list[str]) -> tuple[ChildRun, dict[str, int]]:
            before = emulator.requests()
            run = run_child(argv, env=env, workdir=workdir)
            return run, request_delta(before, emulator.requests())

        def one_round(concurrency: int) -> tuple[_Round, ChildRun]:
            nonlocal generation
            generation += 1
            floor_argv = [sys.executable, str(APPLY_FLOOR_SCRIPT), emulator.base_url]
            floor, floor_requests = counted([*floor_argv, str(concurrency), f"floor {generation}"])
            _check_requests(floor_requests, count, f"the floor at {concurrency}")
            manifest = write_apply_manifest(workdir / "apply", count, generation)
            apply_argv = [*command, "apply", "-f", str(manifest), *options]
            dry, dry_requests = counted([*apply_argv, "--dry-run"])
            if not only_list_pages(dry_requests, pages_of(count)):
                raise RuntimeError(f"apply --dry-run sent {dry_requests}")
            argv = [*apply_argv, "--yes", "--concurrency", str(concurrency)]
            applied, requests = counted(argv)
            _check_requests(requests, count, f"apply at {concurrency}")
            return _Round(floor, applied, requests), dry

        for _ in range(settings.warmup):
            one_round(max(CONCURRENCY))
        for concurrency in CONCURRENCY:
            rounds: list[_Round] = []
            for _ in range(settings.repeat):
                measured_round, dry = one_round(concurrency)
                rounds.append(measured_round)
                dry_runs.append(dry.seconds)
            measured[concurrency] = rounds
    startup = min(dry_runs)
    cases = [
        _case(c, rounds, startup=startup, count=count, latency=LATENCY_MS / 1000)
        for c, rounds in measured.items()
    ]
    slowest, fastest = cases[0], cases[-1]
    return ApplyResult(
        updates=count,
        latency_ms=LATENCY_MS,
        client_options=options,
        client_pacing_lifted=not settings.apply_options and bool(options),
        dry_run_seconds=Timing.of(dry_runs),
        cases=cases,
        speedup=slowest.phase_seconds / fastest.phase_seconds,
        speedup_process=slowest.seconds.best / fastest.seconds.best,
        speedup_concurrency=[slowest.concurrency, fastest.concurrency],
    )


def unpaced_options(command: Sequence[str]) -> list[str]:
    """Lift the client's own pacing, where ``apply`` has it, far above this run's needs.

    The client paces requests under the API's budget (6,000 a minute); 200
    updates at concurrency 8 and 50 ms would ideally go at 160 a second. The
    emulator here sets no limit, so the benchmark measures concurrency, not the
    budget, and the table says so.
    """
    help_text = subprocess.run(
        [*command, "apply", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return [PACING_OPTION, "60000"] if PACING_OPTION in help_text else []


def _check_requests(requests: Mapping[str, int], count: int, what: str) -> None:
    """The list pages (at most pages + 4: the listing is concurrent), one PUT per update,
    and nothing else."""
    puts = sum(requests.get(route, 0) for route in PUT_ROUTES)
    listing = {k: v for k, v in requests.items() if k not in PUT_ROUTES}
    if puts != count or not only_list_pages(listing, pages_of(count)):
        raise RuntimeError(f"{what} sent {dict(requests)}")


def _case(
    concurrency: int, rounds: Sequence[_Round], *, startup: float, count: int, latency: float
) -> ApplyCase:
    rounds_of_puts = math.ceil(count / concurrency)
    # The PUTs go ``concurrency`` at a time; the list pages before them one after
    # another (each needs the previous page's cursor).
    ideal_phase = rounds_of_puts * latency
    ideal_process = (pages_of(count) + rounds_of_puts) * latency
    seconds = Timing.of([r.apply.seconds for r in rounds])
    floor_phase = min(json.loads(r.floor.stdout)["phase_seconds"] for r in rounds)
    phase = seconds.best - startup
    return ApplyCase(
        concurrency=concurrency,
        seconds=seconds,
        phase_seconds=phase,
        ideal_phase_seconds=ideal_phase,
        ideal_ratio=phase / ideal_phase,
        ideal_seconds=ideal_process,
        ideal_ratio_process=seconds.best / ideal_process,
        floor_seconds=Timing.of([r.floor.seconds for r in rounds]),
        floor_phase_seconds=floor_phase,
        floor_ideal_ratio=floor_phase / ideal_phase,
        requests=dict(rounds[-1].requests),
        peak_rss_mb=max(r.apply.peak_rss_mb for r in rounds),
    )
