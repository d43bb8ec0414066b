"""What every benchmark shares: the settings, a timing, a target, the measured command.

Each benchmark module (``plan``, ``shared_secret``, ``apply``, ``latency``,
``rate_limit``, ``startup``) runs its case with ``Settings``, returns a typed
result, and that result is a ``Section``: its JSON, its Markdown table, and the
targets it is checked against. ``run.py`` only orchestrates them.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks.emulator import API_KEY
from benchmarks.measure import ChildRun
from benchmarks.workload import SECRET, SECRET_ENV

ROOT = Path(__file__).resolve().parent.parent
PAGE_LIMIT = 100
LIST_ROUTE = "GET /data-integrations"
PUT_ROUTES = ("PUT /data-integrations/{slug}", "PUT /data-integrations/{slug}/organization")
LIST_SLACK = 4
"""The concurrent listing's list requests: at most the pages plus this many."""
CHANGED_SHARE = 0.01
PACING_OPTION = "--max-requests-per-minute"


@dataclass(frozen=True)
class Settings:
    """How many runs of each: ``python -m benchmarks``'s options."""

    repeat: int = 3
    warmup: int = 1
    latency_repeat: int = 2
    rate_repeat: int = 2
    apply_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    """Samples of one measured command, in seconds: the best is the figure reported."""

    best: float
    median: float
    samples: list[float]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        return cls(best=min(samples), median=statistics.median(samples), samples=list(samples))


@dataclass(frozen=True)
class Target:
    """One target of the issue: what it asks, what was measured, met or not."""

    target: str
    measured: str
    met: bool


class Section(Protocol):
    """A benchmark's result, as ``run.py`` and ``report.py`` use it."""

    def json(self) -> object:
        """What ``benchmarks/results/latest.json`` keeps of it."""
        ...

    def table(self) -> list[str]:
        """Its Markdown lines: a heading, a table, a note."""
        ...

    def targets(self) -> list[Target]: ...


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m reconciler``."""
    script = Path(sys.executable).parent / "reconciler"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def child_env(base_url: str | None = None) -> dict[str, str]:
    """The environment of a measured command: the emulator's key, no colour, the secret."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WORKOS_", "GITHUB_", "RECONCILER_"))
    }
    env.update({"WORKOS_API_KEY": API_KEY, "NO_COLOR": "1", SECRET_ENV: SECRET})
    if base_url is not None:
        env["WORKOS_BASE_URL"] = base_url
    return env


def pages_of(count: int) -> int:
    return math.ceil(count / PAGE_LIMIT)


def only_list_pages(requests: Mapping[str, int], pages: int) -> bool:
    """List requests only, at least one and at most the pages plus ``LIST_SLACK``."""
    listed = requests.get(LIST_ROUTE, 0)
    return set(requests) <= {LIST_ROUTE} and 1 <= listed <= pages + LIST_SLACK


def check_plan_output(run: ChildRun, size: int, changed: int) -> None:
    """``plan --format json`` found ``changed`` updates and nothing else to do."""
    summary = json.loads(run.stdout)["summary"]
    wanted = {"update": changed, "unchanged": size - changed, "create": 0, "delete": 0}
    if any(summary[key] != value for key, value in wanted.items()):
        raise RuntimeError(f"unexpected plan of {size}: {summary} (expected {wanted})")


def plan_argv(command: Sequence[str], manifest: Path) -> list[str]:
    """``reconciler plan`` as measured: JSON out, exit 2 when changes are found (expected)."""
    return [*command, "plan", "-f", str(manifest), "--format", "json", "--detailed-exitcode"]
