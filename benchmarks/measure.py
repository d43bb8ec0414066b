"""Run one child process and measure it: wall time and its own peak RSS.

Wall time is ``time.perf_counter`` around spawn-to-exit, so it includes the
interpreter's start-up and imports, as a user (or CI) pays them. Peak RSS is
the child's ``ru_maxrss`` from ``os.wait4`` on that one pid: it excludes the
harness and the emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class ChildFailed(RuntimeError):
    """A measured command exited with an unexpected code."""


@dataclass(frozen=True)
class ChildRun:
    """One finished child process."""

    argv: tuple[str, ...]
    exit_code: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def _max_rss_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def run_child(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    workdir: Path,
    expect: Sequence[int] = (0,),
    timeout: float = 600.0,
) -> ChildRun:
    """Run ``argv`` to completion; raise ``ChildFailed`` unless it exits with ``expect``."""
    out_path, err_path = workdir / "child.stdout", workdir / "child.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=dict(env)
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    process.returncode = exit_code  # reaped here, so Popen must not wait for it again
    run = ChildRun(
        argv=tuple(argv),
        exit_code=exit_code,
        seconds=seconds,
        peak_rss_mb=_max_rss_mb(usage.ru_maxrss),
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )
    if exit_code not in expect:
        raise ChildFailed(
            f"{' '.join(argv)} exited {exit_code} (expected {', '.join(map(str, expect))}):\n"
            f"{run.stderr[-2000:]}{run.stdout[-2000:]}"
        )
    return run
