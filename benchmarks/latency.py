"""The latency benchmark: a plan at ``--latency-ms 100`` next to the same plan at none.

Two emulators run side by side, seeded alike; each round plans at no latency,
at 100 ms, then at no latency again, so that both see the same machine.
Latency adds (best at 100 ms − best at none); a listing one page at a time
would add ``pages × 100 ms``, one round trip per page. The listing's own round
trips (``roundtrips.py``, in virtual time) are the least latency can add.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.emulator import request_delta, running_emulator
from benchmarks.harness import (
    CHANGED_SHARE,
    LIST_ROUTE,
    LIST_SLACK,
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
from benchmarks.measure import run_child
from benchmarks.roundtrips import listing_round_trips
from benchmarks.workload import as_share, write_plan_workload

LATENCY_MS = 100
CASES = ((1_000, 0.5), (10_000, 0.5), (10_000, 0.2), (10_000, 0.0))
"""(integrations, share organization-owned) planned at ``LATENCY_MS`` and at no latency."""
CHECKED_SIZE = 10_000
TARGET_RATIO = 0.5
TARGET_RATIO_ONE_OWNERSHIP = 0.55
"""All of one ownership, the listing cannot split the work by ownership: its own round
trips are half the pages plus one (0.51× at 10,000), so the target is that bound's."""


@dataclass(frozen=True)
class LatencyCase:
    """One workload at ``latency_ms`` and at none: the time latency adds."""

    integrations: int
    organization_share: float
    latency_ms: int
    seconds: Timing
    no_latency_seconds: Timing
    added_seconds: float
    added_seconds_median: float
    pages: int
    sequential_seconds: float
    ratio: float
    ratio_median: float
    round_trips: int
    round_trips_ratio: float
    list_requests: int
    list_requests_max: int

    def target_ratio(self) -> float:
        one_ownership = self.organization_share in (0, 1)
        return TARGET_RATIO_ONE_OWNERSHIP if one_ownership else TARGET_RATIO

    def row(self) -> list[str]:
        latency = self.latency_ms
        return [
            f"{self.integrations:,}",
            report.split(self.organization_share),
            report.seconds(self.seconds.best),
            report.seconds(self.no_latency_seconds.best),
            report.seconds(self.added_seconds),
            f"{self.pages} × {latency} ms = {report.seconds(self.sequential_seconds)}",
            f"**{self.ratio:.2f}×**",
            f"{self.round_trips} ({self.round_trips_ratio:.2f}×)",
            f"{self.list_requests} (≤ {self.list_requests_max})",
        ]


@dataclass(frozen=True)
class LatencyResult:
    """Every case of ``CASES``."""

    cases: list[LatencyCase]

    def json(self) -> object:
        return [asdict(case) for case in self.cases]

    def table(self) -> list[str]:
        latency = self.cases[0].latency_ms
        lines = [
            "",
            f"**latency** (plan, 1% changed; emulator `--latency-ms {latency}` and none, "
            "side by side)",
            "",
        ]
        header = [
            "Integrations",
            "Ownership",
            f"At {latency} ms",
            "No latency",
            "Added",
            "Sequential round trips",
            "Added ÷ sequential",
            "Listing's round trips",
            "List requests",
        ]
        lines += report.table(header, [case.row() for case in self.cases])
        return [
            *lines,
            "",
            f"Added = wall time at {latency} ms − wall time at none (best of each). Sequential "
            f"round trips: what a listing one page after another waits, pages × {latency} ms. "
            "Listing's round trips: the sequential round trips `reconciler.listing` takes over "
            "the same integrations (run in virtual time against an in-memory API, every answer "
            "one latency): the least latency can add. List requests: the most of any run "
            f"(target: at most pages + {LIST_SLACK}).",
        ]

    def targets(self) -> list[Target]:
        targets: list[Target] = []
        for case in self.cases:
            if case.integrations != CHECKED_SIZE:
                continue
            what = f"plan {CHECKED_SIZE:,} at {case.latency_ms} ms, "
            what += report.split(case.organization_share)
            targets.append(
                Target(
                    f"{what}: added time ≤ {case.target_ratio()}× the sequential round trips",
                    f"{case.ratio:.2f}× ({case.added_seconds:.2f} s of "
                    f"{case.sequential_seconds:.0f} s; the listing's own round trips "
                    f"{case.round_trips} of {case.pages} = {case.round_trips_ratio:.2f}×)",
                    case.ratio <= case.target_ratio(),
                )
            )
            targets.append(
                Target(
                    f"{what}: ≤ pages + {LIST_SLACK} list requests",
                    f"{case.list_requests} (pages {case.pages})",
                    case.list_requests <= case.list_requests_max,
                )
            )
        return targets


def run(settings: Settings, workdir: Path) -> LatencyResult:
    return LatencyResult([measure(size, share, settings, workdir) for size, share in CASES])


def measure(size: int, organization_share: float, settings: Settings, workdir: Path) -> LatencyCase:
    """Plan ``size`` integrations at ``--latency-ms 100`` and at none, interleaved, best of N."""
    work = write_plan_workload(
        workdir / f"latency-{size}-{organization_share:g}",
        size,
        changed_share=CHANGED_SHARE,
        organization_share=organization_share,
    )
    pages = pages_of(size)
    command = reconciler_command()
    argv = plan_argv(command, work.manifest)
    samples: dict[int, list[float]] = {0: [], LATENCY_MS: []}
    listed: list[int] = []
    with (
        running_emulator(
            command, seed=work.seed, latency_ms=0, workdir=workdir, env=child_env(), name="flat"
        ) as flat,
        running_emulator(
            command,
            seed=work.seed,
            latency_ms=LATENCY_MS,
            workdir=workdir,
            env=child_env(),
            name="slow",
        ) as slow,
    ):
        emulators = {0: flat, LATENCY_MS: slow}
        for emulator in emulators.values():
            if emulator.stats()["integrations"] != size:
                raise RuntimeError(
                    f"the emulator holds {emulator.stats()['integrations']} integrations"
                )
        for round_ in range(settings.warmup + settings.latency_repeat):
            # The plan at no latency (short, CPU-bound, the most disturbed by other
            # processes) on either side of each plan at 100 ms: twice the samples.
            for latency in (0, LATENCY_MS, 0):
                emulator = emulators[latency]
                before = emulator.requests()
                env = child_env(emulator.base_url)
                run = run_child(argv, env=env, workdir=workdir, expect=(2,))
                delta = request_delta(before, emulator.requests())
                if not only_list_pages(delta, pages):
                    raise RuntimeError(f"plan of {size} at {latency} ms sent {delta}")
                check_plan_output(run, size, work.changed)
                listed.append(delta[LIST_ROUTE])
                if round_ >= settings.warmup:
                    samples[latency].append(run.seconds)
    slow_time, flat_time = Timing.of(samples[LATENCY_MS]), Timing.of(samples[0])
    sequential = pages * LATENCY_MS / 1000
    added = slow_time.best - flat_time.best
    rounds, _ = listing_round_trips(size, as_share(organization_share))
    return LatencyCase(
        integrations=size,
        organization_share=organization_share,
        latency_ms=LATENCY_MS,
        seconds=slow_time,
        no_latency_seconds=flat_time,
        added_seconds=added,
        added_seconds_median=slow_time.median - flat_time.median,
        pages=pages,
        sequential_seconds=sequential,
        ratio=added / sequential,
        ratio_median=(slow_time.median - flat_time.median) / sequential,
        round_trips=rounds,
        round_trips_ratio=rounds / pages,
        list_requests=max(listed),
        list_requests_max=pages + LIST_SLACK,
    )
