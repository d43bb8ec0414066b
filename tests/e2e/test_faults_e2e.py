"""Faults over real loopback: `python -m reconciler.emulator` subprocesses with fault injection,
an apply SIGKILLed halfway, an apply stopped by SIGINT / SIGTERM; every time a re-run converges."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.client import ApiClient
from reconciler.models import RemoteIntegration
from reconciler.planner import plan
from tests.support import AUTH, client_for, custom_body, run_reconciler, subprocess_env
from tests.support.faults import (
    apply_until_converged,
    big_desired,
    big_remote,
    check_converged,
    only_transient,
    raw_listing,
)

StartEmulator = Callable[..., str]
WRITES = ("POST", "PUT", "DELETE")


async def _quick_sleep(seconds: float) -> None:
    """Real sleeps, 100 times shorter: backoff and Retry-After keep their shape, not their cost."""
    await asyncio.sleep(seconds / 100)


def _client(base_url: str, **options: Any) -> ApiClient:
    return client_for(base_url=base_url, sleep=_quick_sleep, jitter=random.random, **options)


def _stats(base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base_url}/_emulator/stats", headers=AUTH, timeout=5).json()
    return data


def _writes(base_url: str) -> int:
    by_method = _stats(base_url)["by_method"]
    return sum(int(by_method[method]) for method in WRITES)


def test_an_apply_of_122_changes_converges_over_loopback_under_faults(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(big_remote()))
    base_url = start_emulator("--seed", str(seed), "--fail-rate", "0.3", "--fault-seed", "42")
    state = big_desired()
    before = raw_listing(base_url)
    first = plan(state, [RemoteIntegration.model_validate(i) for i in before.values()])
    assert len(first.actions) == 122

    async def scenario() -> None:
        async with (
            _client(base_url, max_retries=30) as reader,
            _client(base_url) as writer,
        ):
            results = await apply_until_converged(state, reader, writer, runs=2)
            only_transient(results)

    asyncio.run(scenario())
    check_converged(raw_listing(base_url), first, before)
    faults = _stats(base_url)["faults"]
    assert faults.get("dropped", 0) > 0 and faults.get("dropped after commit", 0) > 0, faults
    assert sum(faults.values()) > 40


# -- through the command line: SIGKILL halfway, SIGINT / SIGTERM ------------------------------


_cli = run_reconciler
_env = subprocess_env


def _definition(slug: str) -> dict[str, str]:
    return {
        "name": slug.title(),
        "authorization_url": f"https://{slug}.example/oauth/authorize",
        "token_url": f"https://{slug}.example/oauth/token",
    }


def _manifest_and_seed(tmp_path: Path, *, updates: int, creates: int, deletes: int) -> Path:
    """Write seed.json and integrations.yaml; return the manifest's path."""
    updated = [f"old-{i:03d}" for i in range(updates)]
    seed = [custom_body(slug, description="before") for slug in updated]
    seed += [custom_body(f"gone-{i:03d}") for i in range(deletes)]
    seed += [custom_body(f"legacy-{i:03d}", description="hands off") for i in range(5)]
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    entries = [
        {
            "slug": slug,
            "description": description,
            "custom_provider": _definition(slug),
            "credentials": {"type": "organization"},
        }
        for slug, description in [(s, "after") for s in updated]
        + [(f"new-{i:03d}", "created") for i in range(creates)]
    ]
    manifest = {
        "version": 1,
        "settings": {"prune": True, "ignore": ["legacy-*"], "max_delete_fraction": 1.0},
        "integrations": entries,
    }
    path = tmp_path / "integrations.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


def _check_final(base_url: str, before: dict[Any, dict[str, Any]], creates: int) -> None:
    after = raw_listing(base_url)  # refuses duplicates
    legacy = {i for i in before if i[0].startswith("legacy-")}
    assert {i for i in after if i[0].startswith("new-")} == {
        (f"new-{i:03d}", "user") for i in range(creates)
    }
    assert not any(i[0].startswith("gone-") for i in after)
    assert all(after[i]["description"] == "after" for i in after if i[0].startswith("old-"))
    for identity in legacy:
        assert json.dumps(after[identity], sort_keys=True) == json.dumps(
            before[identity], sort_keys=True
        )
    assert len({item["id"] for item in after.values()}) == len(after)


def _wait_for_writes(base_url: str, process: subprocess.Popen[str], at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        writes = _writes(base_url)
        if writes >= at_least:
            return writes
        assert process.poll() is None, "the apply ended before it could be interrupted"
        time.sleep(0.005)
    raise AssertionError(f"fewer than {at_least} writes within 60 s")


def test_an_apply_killed_halfway_then_rerun_converges(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    creates, updates, deletes = 60, 20, 15
    manifest = _manifest_and_seed(tmp_path, updates=updates, creates=creates, deletes=deletes)
    base_url = start_emulator("--latency-ms", "40", "--seed", str(tmp_path / "seed.json"))
    before = raw_listing(base_url)
    apply_args = ["apply", "-f", str(manifest), "--yes", "--force", "--concurrency", "4"]

    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *apply_args],
        env=_env(base_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for_writes(base_url, process, at_least=12)
    finally:
        process.kill()  # SIGKILL: no handler, no cleanup, requests cut mid-flight
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    time.sleep(0.1)  # let requests cut mid-flight land, as they may on a real server
    assert _writes(base_url) < creates + updates + deletes

    # --force: 15 deletes of 43 pass the manifest's 1.0 but not the default policy's 0.3 ceiling.
    pending = _cli(base_url, "plan", "-f", str(manifest), "--detailed-exitcode", "--force")
    assert pending.returncode == 2, pending.stderr
    rerun = _cli(base_url, *apply_args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = _cli(base_url, "plan", "-f", str(manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    _check_final(base_url, before, creates)


@pytest.mark.parametrize("which", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_dispatching_waits_for_in_flight_and_a_rerun_converges(
    start_emulator: StartEmulator, tmp_path: Path, which: signal.Signals
) -> None:
    creates = 40
    manifest = _manifest_and_seed(tmp_path, updates=0, creates=creates, deletes=0)
    base_url = start_emulator("--latency-ms", "50", "--seed", str(tmp_path / "seed.json"))
    before = raw_listing(base_url)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            "-f",
            str(manifest),
            "--yes",
            "--concurrency",
            "2",
        ],
        env=_env(base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_writes(base_url, process, at_least=4)
        process.send_signal(which)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stdout + stderr  # as a shell reports a signal
    assert f"{which.name}: starting no new action, finishing those in flight" in stderr
    assert "not started (apply was stopped)" in stderr
    succeeded = sum(1 for line in stdout.splitlines() if line.startswith("ok create"))
    skipped = sum(1 for line in stdout.splitlines() if line.startswith("skipped create"))
    assert "FAILED" not in stdout
    assert f"Apply stopped: {succeeded} succeeded, 0 failed, {skipped} skipped." in stdout
    assert succeeded >= 4 and skipped > 0
    assert succeeded + skipped == creates
    # Every started action finished: exactly the succeeded ones exist, none half-made.
    created = [i for i in raw_listing(base_url) if i[0].startswith("new-")]
    assert len(created) == succeeded
    assert _stats(base_url)["by_method"]["POST"] == succeeded

    rerun = _cli(base_url, "apply", "-f", str(manifest), "--yes")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = _cli(base_url, "plan", "-f", str(manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    _check_final(base_url, before, creates)
