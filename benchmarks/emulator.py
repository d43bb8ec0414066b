"""``reconciler emulator`` as a subprocess on a free loopback port, and its stats."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

API_KEY = "sk_test_emulator"
_LISTENING = re.compile(r"Emulator listening on (http://\S+)")
_STARTUP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Emulator:
    """A running emulator: where it listens."""

    base_url: str

    def stats(self) -> dict[str, Any]:
        """``GET /_emulator/stats``: request counts by route and method, integrations."""
        auth = {"Authorization": f"Bearer {API_KEY}"}  # the key running_emulator serves
        response = httpx.get(f"{self.base_url}/_emulator/stats", headers=auth, timeout=30.0)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def requests(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.stats()["requests"].items()}

    def faults(self) -> dict[str, int]:
        """Injected faults and rate-limited requests, by kind (``"rate limited"``)."""
        return {str(k): int(v) for k, v in self.stats()["faults"].items()}


def request_delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """The requests answered between two ``Emulator.requests()`` snapshots."""
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after.keys() | before.keys()}
    return {key: count for key, count in sorted(delta.items()) if count}


@contextmanager
def running_emulator(
    command: Sequence[str],
    *,
    seed: Path | None,
    latency_ms: int,
    workdir: Path,
    env: Mapping[str, str],
    rate_limit: int | None = None,
    name: str = "emulator",
) -> Iterator[Emulator]:
    """Start ``command emulator --port 0 ...`` keyed with ``API_KEY``; stop it on exit (by its
    pid, nothing else). ``rate_limit``: requests a second it admits before answering 429;
    ``name``: its log file's, for emulators running side by side."""
    argv = [*command, "emulator", "--port", "0", "--latency-ms", str(latency_ms)]
    if seed is not None:
        argv += ["--seed", str(seed)]
    if rate_limit is not None:
        argv += ["--rate-limit", str(rate_limit)]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, "RECONCILER_EMULATOR_API_KEY": API_KEY},
        )
        try:
            yield Emulator(_wait_for_address(process, log_path))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_address(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """The base URL the emulator prints once it listens (seeding comes first)."""
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        found = _LISTENING.search(text)
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}:\n{text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"the emulator did not start within {_STARTUP_TIMEOUT_S:.0f} s")
