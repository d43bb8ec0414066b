"""The rate-limit benchmark: apply 1,000 updates against ``--rate-limit 50``, told and untold.

Told: ``--max-requests-per-minute 3000``, the server's limit. Untold: the
client's default budget (6,000 a minute, twice the limit): it must learn the
limit from the 429s. Each round applies the next generation of descriptions
(1,000 updates every time), the two cases alternating, after an ``apply
--dry-run`` of the same change (for the apply phase) and a pause that refills
the emulator's bucket. The floor is the server's own: 1,000 requests at 50 a
second.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.emulator import Emulator, request_delta, running_emulator
from benchmarks.harness import (
    LIST_ROUTE,
    LIST_SLACK,
    PACING_OPTION,
    PUT_ROUTES,
    Settings,
    Target,
    Timing,
    child_env,
    pages_of,
    reconciler_command,
)
from benchmarks.measure import ChildRun, run_child
from benchmarks.workload import write_apply_manifest, write_apply_seed

RATE_LIMIT = 50
LATENCY_MS = 20
UPDATES = 1_000
CONCURRENCY = 4
TOLD = 3_000
"""``--max-requests-per-minute`` of the told case: the emulator's limit, 50 a second."""
REFILL_S = 1.5
"""Pause before each rate-limited run: the emulator's bucket (one second's worth) refills."""
REFUSED = "rate limited"
TARGET_FLOOR_RATIO = 1.1
TARGET_REFUSED_SHARE = 0.03
TARGET_TOLD_REFUSED_SHARE = 0.01


@dataclass(frozen=True)
class _Run:
    seconds: float
    dry_run_seconds: float
    requests: dict[str, int]
    refused: int

    def refused_share(self) -> float:
        return self.refused / sum(self.requests.values())


@dataclass(frozen=True)
class RateCase:
    """Told or untold: the best run against the server's floor, and every run's 429s."""

    case: str
    client_options: list[str]
    seconds: Timing
    ratio: float
    dry_run_seconds: Timing
    phase_seconds: float
    phase_ratio: float
    requests: dict[str, int]
    refused: int
    refused_share: float
    refused_samples: list[int]
    requests_samples: list[int]
    refused_share_worst: float

    def told(self) -> str:
        """``told (`--max-requests-per-minute 3000`)`` or ``untold (default budget)``."""
        options = self.client_options
        return f"told (`{' '.join(options)}`)" if options else "untold (default budget)"

    def refused_text(self) -> str:
        """The best run's 429s: ``10 of 1,023 (1.0%)``."""
        total = sum(self.requests.values())
        return f"{self.refused:,} of {total:,} ({self.refused_share:.1%})"


@dataclass(frozen=True)
class RateLimitResult:
    updates: int
    rate_limit: int
    latency_ms: int
    concurrency: int
    floor_seconds: float
    cases: list[RateCase]

    def json(self) -> object:
        return asdict(self)

    def table(self) -> list[str]:
        lines = [
            "",
            f"**rate limit** (apply of {self.updates:,} updates at concurrency "
            f"{self.concurrency}; emulator `--rate-limit {self.rate_limit} --latency-ms "
            f"{self.latency_ms}`)",
            "",
        ]
        rows = [
            [
                case.told(),
                report.seconds(case.seconds.best),
                report.seconds(self.floor_seconds),
                f"**{case.ratio:.2f}×**",
                f"{report.seconds(case.phase_seconds)} ({case.phase_ratio:.2f}×)",
                report.requests(case.requests),
                case.refused_text(),
                ", ".join(str(n) for n in case.refused_samples),
            ]
            for case in self.cases
        ]
        header = [
            "Client",
            "Wall time",
            "Floor",
            "× floor",
            "Apply phase (× floor)",
            "HTTP requests",
            "Answered 429",
            "429s, every run",
        ]
        return [
            *lines,
            *report.table(header, rows),
            "",
            f"Wall time: the whole process (start-up, list, plan, {self.updates:,} PUTs), best "
            f"run. Floor: {self.updates:,} requests at the server's "
            f"{self.rate_limit} a second. Apply phase = wall time − `apply --dry-run` of the "
            "same change (can dip under the floor: the server's bucket starts full, a second's "
            "worth). HTTP requests and 429s: the best run's, refused ones included (each retried "
            "after its `Retry-After`). Untold, the client starts at its default budget, 6,000 a "
            "minute, twice the server's limit.",
        ]

    def targets(self) -> list[Target]:
        targets = []
        for case in self.cases:
            told = case.case == "told"
            share_target = TARGET_TOLD_REFUSED_SHARE if told else TARGET_REFUSED_SHARE
            every_run = ", ".join(str(n) for n in case.refused_samples)
            targets.append(
                Target(
                    f"apply {self.updates:,} at --rate-limit {self.rate_limit}, "
                    f"{case.told()}: ≤ {TARGET_FLOOR_RATIO}× the floor (whole process), "
                    f"≤ {share_target:.0%} of requests answered 429 (every run)",
                    f"{case.ratio:.2f}× ({case.seconds.best:.1f} s of "
                    f"{self.floor_seconds:.0f} s); 429: {case.refused_text()}; "
                    f"every run: {every_run}",
                    case.ratio <= TARGET_FLOOR_RATIO and case.refused_share_worst <= share_target,
                )
            )
        return targets


def run(settings: Settings, workdir: Path) -> RateLimitResult:
    """Apply 1,000 updates against ``--rate-limit 50 --latency-ms 20``, told and untold."""
    seed = write_apply_seed(workdir / "rate", UPDATES)
    command = reconciler_command()
    pages = pages_of(UPDATES)
    cases: dict[str, list[str]] = {"told": [PACING_OPTION, str(TOLD)], "untold": []}
    runs: dict[str, list[_Run]] = {name: [] for name in cases}
    generation = 0
    with running_emulator(
        command,
        seed=seed,
        latency_ms=LATENCY_MS,
        rate_limit=RATE_LIMIT,
        workdir=workdir,
        env=child_env(),
        name="rate",
    ) as emulator:
        env = child_env(emulator.base_url)
        for round_ in range(settings.rate_repeat):
            names = list(cases) if round_ % 2 == 0 else list(cases)[::-1]
            for name in names:
                generation += 1
                manifest = write_apply_manifest(workdir / "rate", UPDATES, generation)
                argv = [*command, "apply", "-f", str(manifest), *cases[name]]
                argv += ["--concurrency", str(CONCURRENCY)]
                time.sleep(REFILL_S)
                dry = run_child([*argv, "--dry-run"], env=env, workdir=workdir)
                time.sleep(REFILL_S)
                applied, requests, refused = _counted(emulator, [*argv, "--yes"], env, workdir)
                _check_requests(requests, refused, pages, f"apply ({name})")
                runs[name].append(_Run(applied.seconds, dry.seconds, requests, refused))
    floor = UPDATES / RATE_LIMIT
    return RateLimitResult(
        updates=UPDATES,
        rate_limit=RATE_LIMIT,
        latency_ms=LATENCY_MS,
        concurrency=CONCURRENCY,
        floor_seconds=floor,
        cases=[_case(name, cases[name], runs[name], floor) for name in cases],
    )


def _counted(
    emulator: Emulator, argv: list[str], env: Mapping[str, str], workdir: Path
) -> tuple[ChildRun, dict[str, int], int]:
    """Run ``argv``; the requests the emulator counted meanwhile, and how many it refused."""
    before, refused_before = emulator.requests(), emulator.faults().get(REFUSED, 0)
    run = run_child(argv, env=env, workdir=workdir)
    refused = emulator.faults().get(REFUSED, 0) - refused_before
    return run, request_delta(before, emulator.requests()), refused


def _check_requests(requests: Mapping[str, int], refused: int, pages: int, what: str) -> None:
    """One answered PUT per update and the list pages; the refused ones retried."""
    puts = sum(requests.get(route, 0) for route in PUT_ROUTES)
    listed = requests.get(LIST_ROUTE, 0)
    others = set(requests) - {LIST_ROUTE, *PUT_ROUTES}
    answered = puts + listed - refused
    most = UPDATES + pages + LIST_SLACK
    if others or puts < UPDATES or not UPDATES < answered <= most:
        raise RuntimeError(f"{what} sent {dict(requests)}, {refused} refused")


def _case(name: str, options: list[str], runs: Sequence[_Run], floor: float) -> RateCase:
    seconds = Timing.of([run.seconds for run in runs])
    best = min(runs, key=lambda run: run.seconds)
    worst = max(runs, key=_Run.refused_share)
    phase = best.seconds - min(run.dry_run_seconds for run in runs)
    return RateCase(
        case=name,
        client_options=options,
        seconds=seconds,
        ratio=seconds.best / floor,
        dry_run_seconds=Timing.of([run.dry_run_seconds for run in runs]),
        phase_seconds=phase,
        phase_ratio=phase / floor,
        requests=best.requests,
        refused=best.refused,
        refused_share=best.refused_share(),
        refused_samples=[run.refused for run in runs],
        requests_samples=[sum(run.requests.values()) for run in runs],
        refused_share_worst=worst.refused_share(),
    )
