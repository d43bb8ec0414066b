"""``make bench``: plan, apply, latency, rate-limit and start-up benchmarks of the real CLI.

Every measured command is its own process, as in CI: ``reconciler plan`` and
``apply`` against ``reconciler emulator`` (a subprocess on a free loopback
port, seeded from a generated ``--seed`` file), next to floors that do only
the unavoidable work against the same emulator (``floor.py`` for a plan,
``apply_floor.py`` for an apply). Measured and floor runs are interleaved so
that noise from other processes falls on both; after warm-up runs, each figure
is the **best** of ``--repeat`` runs (the least disturbed), and every sample is
kept in the JSON. Request counts come from the emulator's ``GET
/_emulator/stats``, read before and after each run.

Two tables emulate the internet: a plan at ``--latency-ms 100`` next to the
same plan at no latency (two emulators side by side, runs interleaved), to
measure the time latency adds against the round trips a one-page-at-a-time
listing would make; and an apply against ``--rate-limit 50``, with the
client told the limit and not, to measure how close pacing gets to the
server's floor and how many requests the server refuses (429).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.emulator import API_KEY, Emulator, request_delta, running_emulator
from benchmarks.measure import ChildRun, run_child
from benchmarks.roundtrips import listing_round_trips
from benchmarks.workload import (
    SECRET,
    SECRET_ENV,
    as_share,
    write_apply_manifest,
    write_apply_seed,
    write_plan_workload,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
FLOOR_SCRIPT = ROOT / "benchmarks" / "floor.py"
APPLY_FLOOR_SCRIPT = ROOT / "benchmarks" / "apply_floor.py"
PAGE_LIMIT = 100
LIST_ROUTE = "GET /data-integrations"
PUT_ROUTES = ("PUT /data-integrations/{slug}", "PUT /data-integrations/{slug}/organization")

PLAN_SIZES = (100, 1_000, 10_000)
CHANGED_SHARE = 0.01
APPLY_UPDATES = 200
APPLY_LATENCY_MS = 50
APPLY_CONCURRENCY = (1, 4, 8)
PACING_OPTION = "--max-requests-per-minute"
LIST_SLACK = 4
"""The concurrent listing's list requests: at most the pages plus this many."""

LATENCY_MS = 100
LATENCY_CASES = ((1_000, 0.5), (10_000, 0.5), (10_000, 0.2), (10_000, 0.0))
"""(integrations, share organization-owned) planned at ``LATENCY_MS`` and at no latency."""

RATE_LIMIT = 50
RATE_LATENCY_MS = 20
RATE_UPDATES = 1_000
RATE_CONCURRENCY = 4
RATE_TOLD = 3_000
"""``--max-requests-per-minute`` of the told case: the emulator's limit, 50 a second."""
RATE_REFILL_S = 1.5
"""Pause before each rate-limited run: the emulator's bucket (one second's worth) refills."""
RATE_REFUSED = "rate limited"

TARGET_PLAN_RSS_MB = 250.0
TARGET_PLAN_FLOOR_RATIO = 1.5
TARGET_APPLY_IDEAL_RATIO = 1.5
TARGET_APPLY_SPEEDUP = 6.0
TARGET_HELP_SECONDS = 0.3
TARGET_LATENCY_RATIO = 0.5
TARGET_RATE_FLOOR_RATIO = 1.1
TARGET_RATE_REFUSED_SHARE = 0.03
TARGET_TOLD_REFUSED_SHARE = 0.01


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m reconciler``."""
    script = Path(sys.executable).parent / "reconciler"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def child_env(base_url: str | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WORKOS_", "GITHUB_", "RECONCILER_"))
    }
    env.update({"WORKOS_API_KEY": API_KEY, "NO_COLOR": "1", SECRET_ENV: SECRET})
    if base_url is not None:
        env["WORKOS_BASE_URL"] = base_url
    return env


def summarize(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "best": min(samples),
        "median": statistics.median(samples),
        "samples": list(samples),
    }


# -- plan ------------------------------------------------------------------------------


def bench_plan(size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Plan ``size`` integrations (1% changed) and the floor, interleaved, best of N."""
    work = write_plan_workload(workdir / f"plan-{size}", size, changed_share=CHANGED_SHARE)
    command = reconciler_command()
    plan_argv = [*command, "plan", "-f", str(work.manifest), "--format", "json"]
    plan_argv += ["--detailed-exitcode"]  # exit 2: changes found, as expected
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
        for round_ in range(args.warmup + args.repeat):
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
                    if round_ >= args.warmup:
                        floor_runs.append(run)
                    continue
                before = emulator.requests()
                run = run_child(plan_argv, env=env, workdir=workdir, expect=(2,))
                deltas.append(request_delta(before, emulator.requests()))
                _check_plan_output(run, size, work.changed)
                if round_ >= args.warmup:
                    plan_runs.append(run)
    pages = math.ceil(size / PAGE_LIMIT)
    plan_time = summarize([r.seconds for r in plan_runs])
    floor_time = summarize([r.seconds for r in floor_runs])
    return {
        "integrations": size,
        "changed": work.changed,
        "manifest_bytes": work.manifest.stat().st_size,
        "plan_seconds": plan_time,
        "floor_seconds": floor_time,
        "floor_ratio": plan_time["best"] / floor_time["best"],
        "floor_ratio_median": plan_time["median"] / floor_time["median"],
        "peak_rss_mb": max(r.peak_rss_mb for r in plan_runs),
        "floor_peak_rss_mb": max(r.peak_rss_mb for r in floor_runs),
        "requests": deltas[-1],
        "pages": pages,
        "list_requests_max": pages + LIST_SLACK,
        "list_requests": [delta.get(LIST_ROUTE, 0) for delta in deltas],
        "requests_within": all(_only_list_pages(delta, pages) for delta in deltas),
    }


def _only_list_pages(requests: Mapping[str, int], pages: int) -> bool:
    """List requests only, at least one and at most the pages plus ``LIST_SLACK``."""
    listed = requests.get(LIST_ROUTE, 0)
    return set(requests) <= {LIST_ROUTE} and 1 <= listed <= pages + LIST_SLACK


def _check_plan_output(run: ChildRun, size: int, changed: int) -> None:
    summary = json.loads(run.stdout)["summary"]
    wanted = {"update": changed, "unchanged": size - changed, "create": 0, "delete": 0}
    if any(summary[key] != value for key, value in wanted.items()):
        raise RuntimeError(f"unexpected plan of {size}: {summary} (expected {wanted})")


# -- apply -----------------------------------------------------------------------------


def bench_apply(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Apply 200 updates at ``--latency-ms 50``, at each concurrency, best of N.

    Each round runs, against the same emulator: the floor (a bare httpx loop
    making the same PUTs), ``apply --dry-run`` and ``apply --yes`` of the next
    generation of descriptions, so every apply has exactly 200 updates to make
    and the state never needs resetting. The dry run pays everything but the
    PUTs (start-up, manifest, list, plan, printing it): apply minus dry run is
    the apply phase.
    """
    count, latency = APPLY_UPDATES, APPLY_LATENCY_MS / 1000
    seed = write_apply_seed(workdir / "apply", count)
    command = reconciler_command()
    options = list(args.apply_option) or unpaced_options(command)
    generation = 0
    dry_runs: list[float] = []
    measured: dict[int, dict[str, list[Any]]] = {}
    with running_emulator(
        command, seed=seed, latency_ms=APPLY_LATENCY_MS, workdir=workdir, env=child_env()
    ) as emulator:
        env = child_env(emulator.base_url)

        def counted(argv: list[str]) -> tuple[ChildRun, dict[str, int]]:
            before = emulator.requests()
            run = run_child(argv, env=env, workdir=workdir)
            return run, request_delta(before, emulator.requests())

        def one_round(concurrency: int) -> tuple[ChildRun, ChildRun, ChildRun, dict[str, int]]:
            nonlocal generation
            generation += 1
            floor_argv = [sys.executable, str(APPLY_FLOOR_SCRIPT), emulator.base_url]
            floor, floor_requests = counted([*floor_argv, str(concurrency), f"floor {generation}"])
            _check_apply_requests(floor_requests, count, f"the floor at {concurrency}")
            manifest = write_apply_manifest(workdir / "apply", count, generation)
            apply_argv = [*command, "apply", "-f", str(manifest), *options]
            dry, dry_requests = counted([*apply_argv, "--dry-run"])
            if not _only_list_pages(dry_requests, math.ceil(count / PAGE_LIMIT)):
                raise RuntimeError(f"apply --dry-run sent {dry_requests}")
            argv = [*apply_argv, "--yes", "--concurrency", str(concurrency)]
            applied, requests = counted(argv)
            _check_apply_requests(requests, count, f"apply at {concurrency}")
            return floor, dry, applied, requests

        for _ in range(args.warmup):
            one_round(max(APPLY_CONCURRENCY))
        for concurrency in APPLY_CONCURRENCY:
            runs: dict[str, list[Any]] = {"floor": [], "apply": [], "requests": []}
            for _ in range(args.repeat):
                floor, dry, applied, requests = one_round(concurrency)
                runs["floor"].append(floor)
                runs["apply"].append(applied)
                runs["requests"].append(requests)
                dry_runs.append(dry.seconds)
            measured[concurrency] = runs
    startup = min(dry_runs)
    cases = [
        _apply_case(c, runs, startup=startup, count=count, latency=latency)
        for c, runs in measured.items()
    ]
    slowest, fastest = cases[0], cases[-1]
    return {
        "updates": count,
        "latency_ms": APPLY_LATENCY_MS,
        "client_options": options,
        "client_pacing_lifted": not args.apply_option and bool(options),
        "dry_run_seconds": summarize(dry_runs),
        "cases": cases,
        "speedup": slowest["phase_seconds"] / fastest["phase_seconds"],
        "speedup_process": slowest["seconds"]["best"] / fastest["seconds"]["best"],
        "speedup_concurrency": [slowest["concurrency"], fastest["concurrency"]],
    }


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


def _check_apply_requests(requests: Mapping[str, int], count: int, what: str) -> None:
    """The list pages (at most pages + 4: the listing is concurrent), one PUT per update,
    and nothing else."""
    puts = sum(requests.get(route, 0) for route in PUT_ROUTES)
    listing = {k: v for k, v in requests.items() if k not in PUT_ROUTES}
    if puts != count or not _only_list_pages(listing, math.ceil(count / PAGE_LIMIT)):
        raise RuntimeError(f"{what} sent {dict(requests)}")


def _apply_case(
    concurrency: int,
    runs: Mapping[str, Sequence[Any]],
    *,
    startup: float,
    count: int,
    latency: float,
) -> dict[str, Any]:
    pages = math.ceil(count / PAGE_LIMIT)
    rounds = math.ceil(count / concurrency)
    # The PUTs go ``concurrency`` at a time; the list pages before them one after
    # another (each needs the previous page's cursor).
    ideal_phase = rounds * latency
    ideal_process = (pages + rounds) * latency
    seconds = summarize([run.seconds for run in runs["apply"]])
    floor_runs = runs["floor"]
    floor_phase = min(json.loads(run.stdout)["phase_seconds"] for run in floor_runs)
    phase = seconds["best"] - startup
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "phase_seconds": phase,
        "ideal_phase_seconds": ideal_phase,
        "ideal_ratio": phase / ideal_phase,
        "ideal_seconds": ideal_process,
        "ideal_ratio_process": seconds["best"] / ideal_process,
        "floor_seconds": summarize([run.seconds for run in floor_runs]),
        "floor_phase_seconds": floor_phase,
        "floor_ideal_ratio": floor_phase / ideal_phase,
        "requests": dict(runs["requests"][-1]),
        "peak_rss_mb": max(run.peak_rss_mb for run in runs["apply"]),
    }


# -- latency ---------------------------------------------------------------------------


def bench_latency(
    size: int, organization_share: float, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """Plan ``size`` integrations at ``--latency-ms 100`` and at none, interleaved, best of N.

    Two emulators run side by side, seeded alike; each round plans at no
    latency, at 100 ms, then at no latency again, so that both see the same
    machine. Latency adds (best at 100 ms − best at none); a listing one page
    at a time would add ``pages × 100 ms``, one round trip per page.
    """
    work = write_plan_workload(
        workdir / f"latency-{size}-{organization_share:g}",
        size,
        changed_share=CHANGED_SHARE,
        organization_share=organization_share,
    )
    pages = math.ceil(size / PAGE_LIMIT)
    command = reconciler_command()
    plan_argv = [*command, "plan", "-f", str(work.manifest), "--format", "json"]
    plan_argv += ["--detailed-exitcode"]
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
        for round_ in range(args.warmup + args.latency_repeat):
            # The plan at no latency (short, CPU-bound, the most disturbed by other
            # processes) on either side of each plan at 100 ms: twice the samples.
            for latency in (0, LATENCY_MS, 0):
                emulator = emulators[latency]
                before = emulator.requests()
                env = child_env(emulator.base_url)
                run = run_child(plan_argv, env=env, workdir=workdir, expect=(2,))
                delta = request_delta(before, emulator.requests())
                if not _only_list_pages(delta, pages):
                    raise RuntimeError(f"plan of {size} at {latency} ms sent {delta}")
                _check_plan_output(run, size, work.changed)
                listed.append(delta[LIST_ROUTE])
                if round_ >= args.warmup:
                    samples[latency].append(run.seconds)
    slow_time, flat_time = summarize(samples[LATENCY_MS]), summarize(samples[0])
    sequential = pages * LATENCY_MS / 1000
    added = slow_time["best"] - flat_time["best"]
    rounds, _ = listing_round_trips(size, as_share(organization_share))
    return {
        "integrations": size,
        "organization_share": organization_share,
        "latency_ms": LATENCY_MS,
        "seconds": slow_time,
        "no_latency_seconds": flat_time,
        "added_seconds": added,
        "added_seconds_median": slow_time["median"] - flat_time["median"],
        "pages": pages,
        "sequential_seconds": sequential,
        "ratio": added / sequential,
        "ratio_median": (slow_time["median"] - flat_time["median"]) / sequential,
        "round_trips": rounds,
        "round_trips_ratio": rounds / pages,
        "list_requests": max(listed),
        "list_requests_max": pages + LIST_SLACK,
    }


# -- rate limit ------------------------------------------------------------------------


def bench_rate_limit(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Apply 1,000 updates against ``--rate-limit 50 --latency-ms 20``, told and untold.

    Told: ``--max-requests-per-minute 3000``, the server's limit. Untold: the
    client's default budget (6,000 a minute, twice the limit): it must learn
    the limit from the 429s. Each round applies the next generation of
    descriptions (1,000 updates every time), the two cases alternating, after
    an ``apply --dry-run`` of the same change (for the apply phase) and a
    pause that refills the emulator's bucket. The floor is the server's own:
    1,000 requests at 50 a second.
    """
    seed = write_apply_seed(workdir / "rate", RATE_UPDATES)
    command = reconciler_command()
    pages = math.ceil(RATE_UPDATES / PAGE_LIMIT)
    cases: dict[str, list[str]] = {
        "told": [PACING_OPTION, str(RATE_TOLD)],
        "untold": [],
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    generation = 0
    with running_emulator(
        command,
        seed=seed,
        latency_ms=RATE_LATENCY_MS,
        rate_limit=RATE_LIMIT,
        workdir=workdir,
        env=child_env(),
        name="rate",
    ) as emulator:
        env = child_env(emulator.base_url)
        for round_ in range(args.rate_repeat):
            names = list(cases) if round_ % 2 == 0 else list(cases)[::-1]
            for name in names:
                generation += 1
                manifest = write_apply_manifest(workdir / "rate", RATE_UPDATES, generation)
                argv = [*command, "apply", "-f", str(manifest), *cases[name]]
                argv += ["--concurrency", str(RATE_CONCURRENCY)]
                time.sleep(RATE_REFILL_S)
                dry = run_child([*argv, "--dry-run"], env=env, workdir=workdir)
                time.sleep(RATE_REFILL_S)
                run, requests, refused = _counted(emulator, [*argv, "--yes"], env, workdir)
                _check_rate_requests(requests, refused, pages, f"apply ({name})")
                runs[name].append(
                    {
                        "seconds": run.seconds,
                        "dry_run_seconds": dry.seconds,
                        "requests": requests,
                        "refused": refused,
                    }
                )
    floor = RATE_UPDATES / RATE_LIMIT
    return {
        "updates": RATE_UPDATES,
        "rate_limit": RATE_LIMIT,
        "latency_ms": RATE_LATENCY_MS,
        "concurrency": RATE_CONCURRENCY,
        "floor_seconds": floor,
        "cases": [_rate_case(name, cases[name], runs[name], floor) for name in cases],
    }


def _counted(
    emulator: Emulator, argv: list[str], env: Mapping[str, str], workdir: Path
) -> tuple[ChildRun, dict[str, int], int]:
    """Run ``argv``; the requests the emulator counted meanwhile, and how many it refused."""
    before, refused_before = emulator.requests(), emulator.faults().get(RATE_REFUSED, 0)
    run = run_child(argv, env=env, workdir=workdir)
    refused = emulator.faults().get(RATE_REFUSED, 0) - refused_before
    return run, request_delta(before, emulator.requests()), refused


def _check_rate_requests(requests: Mapping[str, int], refused: int, pages: int, what: str) -> None:
    """One answered PUT per update and the list pages; the refused ones retried."""
    puts = sum(requests.get(route, 0) for route in PUT_ROUTES)
    listed = requests.get(LIST_ROUTE, 0)
    others = set(requests) - {LIST_ROUTE, *PUT_ROUTES}
    answered = puts + listed - refused
    most = RATE_UPDATES + pages + LIST_SLACK
    if others or puts < RATE_UPDATES or not RATE_UPDATES < answered <= most:
        raise RuntimeError(f"{what} sent {dict(requests)}, {refused} refused")


def _rate_case(
    name: str, options: list[str], runs: Sequence[Mapping[str, Any]], floor: float
) -> dict[str, Any]:
    seconds = summarize([run["seconds"] for run in runs])
    best = min(runs, key=lambda run: run["seconds"])
    worst = max(runs, key=lambda run: run["refused"] / sum(run["requests"].values()))
    phase = best["seconds"] - min(run["dry_run_seconds"] for run in runs)
    return {
        "case": name,
        "client_options": options,
        "seconds": seconds,
        "ratio": seconds["best"] / floor,
        "dry_run_seconds": summarize([run["dry_run_seconds"] for run in runs]),
        "phase_seconds": phase,
        "phase_ratio": phase / floor,
        "requests": best["requests"],
        "refused": best["refused"],
        "refused_share": best["refused"] / sum(best["requests"].values()),
        "refused_samples": [run["refused"] for run in runs],
        "requests_samples": [sum(run["requests"].values()) for run in runs],
        "refused_share_worst": worst["refused"] / sum(worst["requests"].values()),
    }


# -- start-up --------------------------------------------------------------------------


def bench_startup(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """``reconciler --help`` and ``validate`` of 100 integrations, next to a bare interpreter."""
    small = write_plan_workload(workdir / "startup", 100, changed_share=CHANGED_SHARE)
    command = reconciler_command()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "reconciler --help": [*command, "--help"],
        "reconciler validate (100 integrations)": [*command, "validate", "-f", str(small.manifest)],
    }
    rounds = args.warmup + max(args.repeat, 5)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(rounds):
        for name, argv in cases.items():
            run = run_child(argv, env=child_env(), workdir=workdir)
            if round_ >= args.warmup:
                samples[name].append(run.seconds)
    return {
        "commands": {name: summarize(values) for name, values in samples.items()},
        "help_heavy_imports": heavy_imports_of_help(workdir),
    }


HEAVY_MODULES = (
    "fastapi",
    "uvicorn",
    "starlette",
    "pydantic",
    "httpx",
    "httpcore",
    "anyio",
    "yaml",
    "sqlite3",
    "asyncio",
    "ssl",
    "deepdiff",
    "tenacity",
    "aiolimiter",
)


def heavy_imports_of_help(workdir: Path) -> list[str]:
    """The heavy packages ``reconciler --help`` imports (``-X importtime``): should be none."""
    code = "import sys; from reconciler.cli import main; sys.argv[0] = 'reconciler'; main()"
    run = run_child(
        [sys.executable, "-X", "importtime", "-c", code, "--help"],
        env=child_env(),
        workdir=workdir,
    )
    imported = {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(imported.intersection(HEAVY_MODULES))


# -- targets ---------------------------------------------------------------------------


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue: what it asks, what was measured, met or not."""
    targets: list[dict[str, Any]] = []

    def target(name: str, measured: str, met: bool) -> None:
        targets.append({"target": name, "measured": measured, "met": met})

    plans = {case["integrations"]: case for case in results.get("plan", [])}
    largest = plans.get(10_000)
    if largest is not None:
        target(
            f"plan 10,000: at most pages + {LIST_SLACK} = {largest['list_requests_max']} list "
            "requests, nothing else",
            ", ".join(f"{k} ×{v}" for k, v in largest["requests"].items()),
            largest["requests_within"],
        )
        target(
            f"plan 10,000: peak RSS < {TARGET_PLAN_RSS_MB:g} MB",
            f"{largest['peak_rss_mb']:.0f} MB",
            largest["peak_rss_mb"] < TARGET_PLAN_RSS_MB,
        )
        target(
            f"plan 10,000: ≤ {TARGET_PLAN_FLOOR_RATIO}× the floor",
            f"{largest['floor_ratio']:.2f}×",
            largest["floor_ratio"] <= TARGET_PLAN_FLOOR_RATIO,
        )
    apply = results.get("apply")
    if apply is not None:
        fastest = apply["cases"][-1]
        target(
            f"apply at concurrency {fastest['concurrency']}: ≤ {TARGET_APPLY_IDEAL_RATIO}× ideal "
            "(apply phase)",
            f"{fastest['ideal_ratio']:.2f}× (whole process {fastest['ideal_ratio_process']:.2f}×)",
            fastest["ideal_ratio"] <= TARGET_APPLY_IDEAL_RATIO,
        )
        low, high = apply["speedup_concurrency"]
        target(
            f"apply: concurrency {high} ≥ {TARGET_APPLY_SPEEDUP:g}× faster than {low} "
            "(apply phase)",
            f"{apply['speedup']:.2f}× (whole process {apply['speedup_process']:.2f}×)",
            apply["speedup"] >= TARGET_APPLY_SPEEDUP,
        )
    for case in results.get("latency", []):
        if case["integrations"] != 10_000:
            continue
        target(
            f"plan 10,000 at {case['latency_ms']} ms, {report.split(case['organization_share'])}: "
            f"added time ≤ {TARGET_LATENCY_RATIO}× the sequential round trips",
            f"{case['ratio']:.2f}× ({case['added_seconds']:.2f} s of "
            f"{case['sequential_seconds']:.0f} s; the listing's own round trips "
            f"{case['round_trips']} of {case['pages']} = {case['round_trips_ratio']:.2f}×)",
            case["ratio"] <= TARGET_LATENCY_RATIO,
        )
        target(
            f"plan 10,000 at {case['latency_ms']} ms, {report.split(case['organization_share'])}: "
            f"≤ pages + {LIST_SLACK} list requests",
            f"{case['list_requests']} (pages {case['pages']})",
            case["list_requests"] <= case["list_requests_max"],
        )
    rate = results.get("rate_limit")
    if rate is not None:
        for case in rate["cases"]:
            told = case["case"] == "told"
            share_target = TARGET_TOLD_REFUSED_SHARE if told else TARGET_RATE_REFUSED_SHARE
            target(
                f"apply {rate['updates']:,} at --rate-limit {rate['rate_limit']}, "
                f"{report.told(case)}: ≤ {TARGET_RATE_FLOOR_RATIO}× the floor (whole process), "
                f"≤ {share_target:.0%} of requests answered 429 (every run)",
                f"{case['ratio']:.2f}× ({case['seconds']['best']:.1f} s of "
                f"{rate['floor_seconds']:.0f} s); 429: {_refused(case)}",
                case["ratio"] <= TARGET_RATE_FLOOR_RATIO
                and case["refused_share_worst"] <= share_target,
            )
    startup = results.get("startup")
    if startup is not None:
        best = startup["commands"]["reconciler --help"]["best"]
        heavy = startup["help_heavy_imports"]
        target(
            f"reconciler --help < {TARGET_HELP_SECONDS} s, no heavy import",
            f"{best:.3f} s; imports {', '.join(heavy) if heavy else 'none'} of "
            f"{', '.join(HEAVY_MODULES)}",
            best < TARGET_HELP_SECONDS and not heavy,
        )
    return targets


def _refused(case: Mapping[str, Any]) -> str:
    """``1 of 1,014 (0.1%); every run: 1, 3``: the best run's, then every run's count."""
    runs = ", ".join(str(n) for n in case["refused_samples"])
    return f"{report.refused(case)}; every run: {runs}"


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each (best kept)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=PLAN_SIZES,
        help="plan sizes, comma-separated (default 100,1000,10000)",
    )
    parser.add_argument(
        "--latency-repeat",
        type=int,
        default=2,
        help="measured runs of each latency case (best kept; default 2)",
    )
    parser.add_argument(
        "--rate-repeat",
        type=int,
        default=2,
        help="rate-limited applies of each case, told and untold (~20 s each; default 2)",
    )
    parser.add_argument(
        "--only",
        choices=("plan", "apply", "latency", "rate", "startup"),
        action="append",
        help="run only these",
    )
    parser.add_argument(
        "--apply-option",
        action="append",
        default=[],
        metavar="OPTION",
        help=(
            "option for `reconciler apply` (repeatable), instead of lifting the client's pacing;"
            " e.g. --apply-option=--max-requests-per-minute=6000 to measure the default"
        ),
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="JSON results")
    parser.add_argument(
        "--no-check", action="store_true", help="exit 0 even when a target is missed"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if min(args.repeat, args.latency_repeat, args.rate_repeat) < 1 or args.warmup < 0:
        raise SystemExit("every --*repeat must be at least 1 and --warmup at least 0")
    only = set(args.only or ("plan", "apply", "latency", "rate", "startup"))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "method": (
            f"each figure the best of {args.repeat} runs (after {args.warmup} warm-up; "
            f"latency: of {args.latency_repeat}, rate limit: of {args.rate_repeat}), "
            "each run a whole process timed from spawn to exit"
        ),
    }
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as temp:
        workdir = Path(temp)
        if "startup" in only:
            _progress("start-up")
            results["startup"] = bench_startup(args, workdir)
        if "plan" in only:
            results["plan"] = []
            for size in args.sizes:
                _progress(f"plan of {size:,} integrations")
                results["plan"].append(bench_plan(size, args, workdir))
        if "apply" in only:
            _progress(f"apply of {APPLY_UPDATES} updates at {APPLY_LATENCY_MS} ms latency")
            results["apply"] = bench_apply(args, workdir)
        if "latency" in only:
            results["latency"] = []
            for size, share in LATENCY_CASES:
                _progress(
                    f"plan of {size:,} integrations ({report.split(share)}) "
                    f"at {LATENCY_MS} ms latency and at none"
                )
                results["latency"].append(bench_latency(size, share, args, workdir))
        if "rate" in only:
            _progress(
                f"apply of {RATE_UPDATES:,} updates at --rate-limit {RATE_LIMIT}, "
                f"told and untold (~{2 * args.rate_repeat * 25} s)"
            )
            results["rate_limit"] = bench_rate_limit(args, workdir)
    results["targets"] = check_targets(results)
    results["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    table = report.render(results)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temp_out = args.out.with_name(args.out.name + ".tmp")
    text = json.dumps(_rounded(results), indent=2, ensure_ascii=False)
    temp_out.write_text(text + "\n", encoding="utf-8")
    os.replace(temp_out, args.out)
    print(f"\nResults written to {_shown(args.out)}", file=sys.stderr)
    missed = [t["target"] for t in results["targets"] if not t["met"]]
    if missed and not args.no_check:
        print(f"Missed {len(missed)} target(s): {'; '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def _rounded(value: Any) -> Any:
    """Floats to 4 decimals, for a JSON file people read."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _progress(what: str) -> None:
    print(f"… {what}", file=sys.stderr, flush=True)
