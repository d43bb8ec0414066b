"""The manifest-size benchmark: ``reconciler validate`` of 16 MiB manifests of every shape.

A pull request chooses the manifest, up to the 16 MiB a file may hold; whatever
its shape, ``validate`` must answer (accept or refuse) in at most
``TARGET_SECONDS`` and ``TARGET_PEAK_MB`` of memory. Shapes: floods of empty
entries (flow and block), one list or map with millions of entries, 10,000
integrations padded with long descriptions, 10,000 integrations of nearly
the most nodes a file may hold (the slowest valid manifest: 2 MiB), one huge
string, repeated keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.harness import Settings, Target, child_env, reconciler_command
from benchmarks.measure import run_child

SIZE = 16 * 2**20 - 4096
"""Just under the 16 MiB a manifest file may hold."""
TARGET_SECONDS = 2.0
TARGET_PEAK_MB = 300.0
HEAD = "version: 1\nintegrations:\n"
SCOPES = ", ".join(f"s{j}" for j in range(31))


def _repeat(head: str, unit: str, tail: str = "") -> str:
    return head + unit * ((SIZE - len(head) - len(tail)) // len(unit)) + tail


def _padded_integrations() -> str:
    count = 10_000
    pad = "d" * ((SIZE - len(HEAD)) // count - 120)
    entry = (
        "  - slug: svc-{i:05d}\n    ownership: organization\n"
        "    description: {pad}\n    credentials: {{type: organization}}\n"
    )
    return HEAD + "".join(entry.format(i=i, pad=pad) for i in range(count))


def _config_map() -> str:
    head = HEAD + "  - slug: github\n    config:\n"
    lines = (f"      k{i:07d}: v\n" for i in range((SIZE - len(head)) // 18))
    return head + "".join(lines)


SHAPES: dict[str, Callable[[], str]] = {
    "empty entries, flow (`[{}, {}, …]`)": lambda: _repeat(
        "version: 1\nintegrations: [", "{}, ", "{}]\n"
    ),
    "empty entries, block (`- {}`)": lambda: _repeat(HEAD, "  - {}\n"),
    "one list of scopes": lambda: _repeat(HEAD + "  - slug: github\n    scopes: [", "a, ", "b]\n"),
    "one config map": _config_map,
    "10,000 integrations, long descriptions": _padded_integrations,
    "10,000 integrations, 390,000 nodes": lambda: (
        HEAD
        + "".join(
            f"  - slug: svc-{i:05d}\n    ownership: organization\n    scopes: [{SCOPES}]\n"
            for i in range(10_000)
        )
    ),
    "one huge string": lambda: _repeat(HEAD + "  - slug: github\n    description: ", "x", "\n"),
    "one key repeated": lambda: _repeat(HEAD + "  - slug: github\n", "    scopes: []\n"),
}


@dataclass(frozen=True)
class ShapeRun:
    """One shape's best wall time, peak memory, and how ``validate`` answered."""

    shape: str
    megabytes: float
    seconds: float
    peak_rss_mb: float
    exit_code: int
    answer: str


@dataclass(frozen=True)
class ManifestSizeResult:
    runs: list[ShapeRun]

    def json(self) -> object:
        return asdict(self)

    def table(self) -> list[str]:
        rows = [
            [
                run.shape,
                f"{run.megabytes:.1f} MiB",
                report.seconds(run.seconds),
                f"{run.peak_rss_mb:.0f} MB",
                f"{run.exit_code}: {run.answer}",
            ]
            for run in self.runs
        ]
        header = ["Shape", "Size", "Wall time", "Peak RSS", "Exit: first line"]
        return ["", "**manifest size** (`reconciler validate`)", "", *report.table(header, rows)]

    def targets(self) -> list[Target]:
        slowest = max(self.runs, key=lambda run: run.seconds)
        largest = max(self.runs, key=lambda run: run.peak_rss_mb)
        return [
            Target(
                f"validate of any 16 MiB manifest ≤ {TARGET_SECONDS:.0f} s, "
                f"≤ {TARGET_PEAK_MB:.0f} MB",
                f"slowest {slowest.seconds:.2f} s ({slowest.shape}); "
                f"largest {largest.peak_rss_mb:.0f} MB ({largest.shape})",
                slowest.seconds <= TARGET_SECONDS and largest.peak_rss_mb <= TARGET_PEAK_MB,
            )
        ]


def run(settings: Settings, workdir: Path) -> ManifestSizeResult:
    directory = workdir / "manifest-size"
    directory.mkdir(parents=True, exist_ok=True)
    command = reconciler_command()
    runs = []
    for index, (shape, make) in enumerate(SHAPES.items()):
        path = directory / f"shape-{index}.yaml"
        path.write_text(make(), encoding="utf-8")
        argv = [*command, "validate", "-f", str(path)]
        samples = []
        for round_ in range(settings.warmup + settings.repeat):
            child = run_child(argv, env=child_env(), workdir=directory, expect=(0, 1))
            if round_ >= settings.warmup:
                samples.append(child)
        best = min(samples, key=lambda child: child.seconds)
        lines = (best.stderr or best.stdout).strip().splitlines()
        runs.append(
            ShapeRun(
                shape=shape,
                megabytes=path.stat().st_size / 2**20,
                seconds=best.seconds,
                peak_rss_mb=max(child.peak_rss_mb for child in samples),
                exit_code=best.exit_code,
                answer=_short(lines[0] if lines else "", directory),
            )
        )
        path.unlink()
    return ManifestSizeResult(runs)


def _short(line: str, directory: Path) -> str:
    line = line.replace(f"{directory}/", "").replace("|", "\\|")
    return line if len(line) <= 90 else line[:89] + "…"
