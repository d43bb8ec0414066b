"""Ctrl-C during apply says what it means: at the confirmation prompt, that nothing was
changed; the first during the run, that no new action starts; the second, which actions
were in flight (their outcome is unknown) and to run `plan`. Real processes and signals:
``python -m reconciler`` against an emulator subprocess, the prompt on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support import AUTH, invoke, run_reconciler, subprocess_env, write_manifest

StartEmulator = Callable[..., str]
CREATES = 6


def _manifest(tmp_path: Path) -> Path:
    entries = "".join(
        f"  - slug: new-{i:03d}\n    custom_provider:\n      name: New {i}\n"
        f"      authorization_url: https://new{i}.example/authorize\n"
        f"      token_url: https://new{i}.example/token\n"
        "    credentials: {type: organization}\n"
        for i in range(CREATES)
    )
    return write_manifest(tmp_path, f"version: 1\nintegrations:\n{entries}")


def _posts(base_url: str) -> int:
    by_method = httpx.get(f"{base_url}/_emulator/stats", headers=AUTH, timeout=5).json()
    return int(by_method["by_method"].get("POST", 0))


class Lines:
    """A pipe read line by line on a thread, so a test can wait for a line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in {self.seen}")

    def rest(self) -> str:
        """Everything read, once the process has ended (the pipe is then closed)."""
        self.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.stream.close()


def test_a_second_ctrl_c_lists_the_actions_in_flight_and_says_to_plan(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path)
    base_url = start_emulator("--latency-ms", "700")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest), "--yes"],
        env=subprocess_env(base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        out.wait_for(r"^ok create")  # the next ones start at once (--concurrency 4)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        err.wait_for(r"SIGINT: starting no new action, finishing those in flight \([1-4]\)")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stdout, stderr = out.rest(), err.rest()
    assert process.returncode == 130, stdout + stderr
    assert "Aborted!" not in stdout + stderr
    assert "Traceback" not in stderr
    listed = re.findall(r"^  create (new-\d{3}) \(user\)$", stderr, re.MULTILINE)
    assert listed, stderr
    assert (
        "SIGINT again: stopping at once. The outcome of "
        f"{'this action' if len(listed) == 1 else 'these actions'} is unknown (in flight):"
    ) in stderr
    assert "Run `reconciler plan` to see what took effect, then apply again." in stderr
    assert (
        "Error: stopped at once by a second SIGINT: what the actions in flight did is "
        "unknown; run `reconciler plan` to see where things stand"
    ) in stderr
    finished = set(re.findall(r"^ok create (new-\d{3}) \(user\)", stdout, re.MULTILINE))
    assert not finished & set(listed), (finished, listed)

    rerun = run_reconciler(base_url, "apply", "-f", str(manifest), "--yes")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = run_reconciler(base_url, "plan", "-f", str(manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr


def _read_until(fd: int, text: str, timeout: float = 30) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if text.encode() in seen:
                return seen.decode()
    raise AssertionError(f"{text!r} not shown: {seen!r}")


def test_ctrl_c_at_the_prompt_says_nothing_was_changed(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path)
    base_url = start_emulator()
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest)],
        env=subprocess_env(base_url),
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(secondary)
    assert process.stdout is not None
    try:
        shown = _read_until(process.stdout.fileno(), "Apply these changes?")
        assert "+ new-000 (user) will be created" in shown
        # as a person would: a moment after the question, once the prompt reads the
        # terminal (a signal between the prompt's write and its read waits for Enter)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert stderr.decode().strip() == "Error: apply cancelled: nothing was changed"
    assert _posts(base_url) == 0


def test_end_of_input_at_the_prompt_says_nothing_was_changed(tmp_path: Path) -> None:
    from reconciler.emulator.app import create_app

    app = create_app()
    result = invoke(app, "apply", "-f", str(_manifest(tmp_path)), interactive=True, input="")
    assert result.exit_code == 1
    assert "Aborted!" not in result.output
    assert result.stderr.endswith("Error: apply cancelled: nothing was changed\n")


@pytest.mark.parametrize("answer", ["n\n", "\n"])
def test_answering_no_still_says_nothing_was_changed(tmp_path: Path, answer: str) -> None:
    from reconciler.emulator.app import create_app

    app = create_app()
    result = invoke(app, "apply", "-f", str(_manifest(tmp_path)), interactive=True, input=answer)
    assert result.exit_code == 1
    assert result.stderr == "Error: apply cancelled: nothing was changed\n"


def _stats(base_url: str) -> dict[str, int]:
    by_method: dict[str, int] = httpx.get(
        f"{base_url}/_emulator/stats", headers=AUTH, timeout=5
    ).json()["by_method"]
    return by_method


def test_a_cancelled_ci_job_never_leaves_a_replace_between_its_delete_and_its_create(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    """A cancelled CI job sends SIGINT, then SIGTERM: the replace in flight finishes its
    re-create whatever is sent, and the run exits 130."""
    seed = tmp_path / "seed.json"
    seed.write_text(
        '[{"provider": "snowflake", "description": "kept", "config": {"account": "a"},'
        ' "credentials": {"type": "organization"}}]'
    )
    manifest = write_manifest(
        tmp_path, "version: 1\nintegrations:\n  - slug: snowflake\n    config: {account: b}\n"
    )
    base_url = start_emulator("--latency-ms", "700", "--seed", str(seed))
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest), "--yes"],
        env=subprocess_env(base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _stats(base_url)["DELETE"] == 0:  # counted as it arrives: 700 ms to go
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert (
        "Finishing first (a replace is never left between its delete and its re-create):\n"
        "  replace snowflake (user)"
    ) in stderr
    assert "SIGTERM: still finishing the replaces in flight" in stderr
    assert _stats(base_url)["POST"] == 1
    found = httpx.get(f"{base_url}/data-integrations/snowflake", headers=AUTH, timeout=5)
    assert found.status_code == 200
    assert (found.json()["config"], found.json()["description"]) == ({"account": "b"}, "kept")


def test_ctrl_c_during_plan_exits_130_without_a_traceback(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    base_url = start_emulator("--latency-ms", "3000")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "plan", "-f", str(_manifest(tmp_path))],
        env=subprocess_env(base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _stats(base_url)["GET"] == 0:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    assert stderr.strip().endswith("Error: interrupted")
