"""The start-up benchmark: ``reconciler --help`` and ``validate``, next to a bare interpreter.

Also lists the heavy packages ``reconciler --help`` imports (``-X importtime``):
there should be none.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.harness import (
    CHANGED_SHARE,
    Settings,
    Target,
    Timing,
    child_env,
    reconciler_command,
)
from benchmarks.measure import run_child
from benchmarks.workload import write_plan_workload

HELP = "reconciler --help"
TARGET_HELP_SECONDS = 0.3
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


@dataclass(frozen=True)
class StartupResult:
    """Each command's wall time, and what ``--help`` imports of ``HEAVY_MODULES``."""

    commands: dict[str, Timing]
    help_heavy_imports: list[str]

    def json(self) -> object:
        return asdict(self)

    def table(self) -> list[str]:
        rows = [[f"`{name}`", report.seconds(t.best)] for name, t in self.commands.items()]
        return ["", "**start-up**", "", *report.table(["Command", "Wall time"], rows)]

    def targets(self) -> list[Target]:
        best = self.commands[HELP].best
        heavy = self.help_heavy_imports
        return [
            Target(
                f"{HELP} < {TARGET_HELP_SECONDS} s, no heavy import",
                f"{best:.3f} s; imports {', '.join(heavy) if heavy else 'none'} of "
                f"{', '.join(HEAVY_MODULES)}",
                best < TARGET_HELP_SECONDS and not heavy,
            )
        ]


def run(settings: Settings, workdir: Path) -> StartupResult:
    small = write_plan_workload(workdir / "startup", 100, changed_share=CHANGED_SHARE)
    command = reconciler_command()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        HELP: [*command, "--help"],
        "reconciler validate (100 integrations)": [*command, "validate", "-f", str(small.manifest)],
    }
    rounds = settings.warmup + max(settings.repeat, 5)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(rounds):
        for name, argv in cases.items():
            run = run_child(argv, env=child_env(), workdir=workdir)
            if round_ >= settings.warmup:
                samples[name].append(run.seconds)
    return StartupResult(
        commands={name: Timing.of(values) for name, values in samples.items()},
        help_heavy_imports=heavy_imports_of_help(workdir),
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
