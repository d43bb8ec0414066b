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

One module per benchmark (``plan``, ``shared_secret``, ``apply``, ``latency``,
``rate_limit``, ``startup``, ``manifest_size``) runs it and returns its typed result, which
renders its table and checks its targets; this module only runs them in turn,
prints the report, writes the JSON and sets the exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchmarks import (
    apply,
    latency,
    manifest_size,
    plan,
    rate_limit,
    report,
    shared_secret,
    startup,
)
from benchmarks.harness import ROOT, Section, Settings

RESULTS = ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark as ``run.py`` runs it."""

    name: str
    """Its ``--only`` choice."""
    key: str
    """Its key in the JSON results."""
    what: str
    """Progress shown while it runs."""
    run: Callable[[Settings, Path], Section]


def benchmarks(sizes: tuple[int, ...], rate_repeat: int) -> list[Benchmark]:
    """Every benchmark, in the order the report shows them."""
    return [
        Benchmark(
            "plan",
            "plan",
            f"plan of {', '.join(f'{n:,}' for n in sizes)} integrations",
            partial(plan.run, sizes=sizes),
        ),
        Benchmark(
            "shared-secret",
            "shared_secret",
            f"plan of {shared_secret.SIZE:,} custom integrations sharing one secret",
            shared_secret.run,
        ),
        Benchmark(
            "apply",
            "apply",
            f"apply of {apply.UPDATES} updates at {apply.LATENCY_MS} ms latency",
            apply.run,
        ),
        Benchmark(
            "latency",
            "latency",
            f"plan of {len(latency.CASES)} workloads at {latency.LATENCY_MS} ms latency "
            "and at none",
            latency.run,
        ),
        Benchmark(
            "rate",
            "rate_limit",
            f"apply of {rate_limit.UPDATES:,} updates at --rate-limit {rate_limit.RATE_LIMIT}, "
            f"told and untold (~{2 * rate_repeat * 25} s)",
            rate_limit.run,
        ),
        Benchmark("startup", "startup", "start-up", startup.run),
        Benchmark(
            "manifest-size",
            "manifest_size",
            f"validate of {len(manifest_size.SHAPES)} manifests of 16 MiB (or the most nodes)",
            manifest_size.run,
        ),
    ]


RUN_FIRST = "startup"
"""Run before the others (its sub-second figures are the most easily disturbed)."""
CHOICES = ("plan", "shared-secret", "apply", "latency", "rate", "startup", "manifest-size")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each (best kept)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=plan.SIZES,
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
    parser.add_argument("--only", choices=CHOICES, action="append", help="run only these")
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
    settings = Settings(
        repeat=args.repeat,
        warmup=args.warmup,
        latency_repeat=args.latency_repeat,
        rate_repeat=args.rate_repeat,
        apply_options=tuple(args.apply_option),
    )
    only = set(args.only or CHOICES)
    chosen = [b for b in benchmarks(args.sizes, args.rate_repeat) if b.name in only]
    started = time.perf_counter()
    sections: dict[str, Section] = {}
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as temp:
        for benchmark in sorted(chosen, key=lambda b: b.name != RUN_FIRST):
            _progress(benchmark.what)
            sections[benchmark.key] = benchmark.run(settings, Path(temp))
    shown = [sections[b.key] for b in chosen]
    targets = [target for section in shown for target in section.targets()]
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    method = (
        f"each figure the best of {args.repeat} runs (after {args.warmup} warm-up; "
        f"latency: of {args.latency_repeat}, rate limit: of {args.rate_repeat}), "
        "each run a whole process timed from spawn to exit"
    )
    heading = (
        f"Python {machine['python']} on {machine['platform']}, {machine['cpus']} CPUs; {method}."
    )
    print(report.render(heading, shown, targets))
    results = {
        "machine": machine,
        "method": method,
        **{key: section.json() for key, section in sections.items()},
        "targets": [{"target": t.target, "measured": t.measured, "met": t.met} for t in targets],
        "elapsed_seconds": round(time.perf_counter() - started, 1),
    }
    _write(args.out, results)
    missed = [t.target for t in targets if not t.met]
    if missed and not args.no_check:
        print(f"Missed {len(missed)} target(s): {'; '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def _write(out: Path, results: object) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temp_out = out.with_name(out.name + ".tmp")
    text = json.dumps(_rounded(results), indent=2, ensure_ascii=False)
    temp_out.write_text(text + "\n", encoding="utf-8")
    os.replace(temp_out, out)
    print(f"\nResults written to {_shown(out)}", file=sys.stderr)


def _rounded(value: object) -> object:
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
