"""Hostile manifests made on the fly, and a way to run the CLI on one and measure it.

Shared by ``tests/cli/test_hostile_input.py`` (exit code, message, memory) and
``benchmarks/corpus.py`` (wall time and memory of every corpus case). The
files are written into a given directory: a 50 MB fixture has no place in Git.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 2**20
LAST_LINE = "Error: the manifest has "
ALIASED_BYTES = "bytes; refused"
"""The end of the refusal of a document whose aliases repeat too much text."""


@dataclass(frozen=True)
class HostileCase:
    """A manifest to refuse: ``expect`` is a fragment of its problem (``""``: any problem)."""

    name: str
    path: Path
    expect: str


def _billion_laughs() -> bytes:
    lines = ["version: 1", "a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines.append("integrations: []")
    return ("\n".join(lines) + "\n").encode()


def _deep_flow() -> bytes:
    return b"version: 1\nintegrations: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"


def _deep_mapping() -> bytes:
    return b"version: 1\nintegrations: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n"


def _deep_block() -> bytes:
    levels = "".join(" " * depth + "a:\n" for depth in range(1, 3_000))
    return ("version: 1\nintegrations:\n" + levels).encode()


def _not_utf8() -> bytes:
    return "version: 1\nintegrations:\n  - slug: github\n    description: café\n".encode("latin-1")


def _utf16() -> bytes:
    return "version: 1\nintegrations:\n  - slug: github\n".encode("utf-16")


def _bom() -> bytes:
    # A byte order mark is accepted; the mistake after it must still be placed right.
    return b"\xef\xbb\xbfversion: 1\nintegrations:\n  - slug: github\n    colour: blue\n"


def _nul_byte() -> bytes:
    return b"version: 1\nintegrations:\n  - slug: git\x00hub\n"


def _long_line() -> bytes:
    description = b"x" * (15 * MIB)
    return (
        b"version: 1\nintegrations:\n  - slug: github\n    description: "
        + description
        + (b"\n    colour: blue\n")
    )


def _unknown_keys(count: int) -> Callable[[], bytes]:
    def make() -> bytes:
        keys = "".join(f"    key{i}: 1\n" for i in range(count))
        return ("version: 1\nintegrations:\n  - slug: github\n" + keys).encode()

    return make


def _aliased_long_string() -> bytes:
    # A 100 KB description, then 70,000 scopes that repeat it: a 1 MB file, 7 GB expanded.
    head = "version: 1\nintegrations:\n  - slug: github\n"
    head += f"    description: &big {'x' * 100_000}\n    scopes:\n"
    return (head + "      - *big\n" * 70_000).encode()


def _aliased_nested_lists() -> bytes:
    # Lists of ten 100 KB strings, ten of those, ten of those...: 1 MB of file, 6 GB expanded.
    strings = ", ".join(str(digit) * 100_000 for digit in range(10))
    levels = [f"&l0 [{strings}]"]
    levels += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in (1, 2, 3)]
    scopes = ", ".join(levels + ["*l3"] * 6)
    return f"version: 1\nintegrations:\n  - slug: github\n    scopes: [{scopes}]\n".encode()


def _aliased_descriptions() -> bytes:
    # 4.6 MB of integrations whose description is one 100 KB string: 9 GB expanded.
    first = f"  - slug: github\n    description: &description {'d' * 100_000}\n"
    rest = "".join(f"  - {{slug: s{i:06}, description: *description}}\n" for i in range(96_000))
    return f"version: 1\nintegrations:\n{first}{rest}".encode()


def _aliased_merge_keys() -> bytes:
    # 4.6 MB of entries merging (<<) one that carries 100 KB of text: 9 GB expanded.
    common = f"  - &common\n    slug: common\n    description: {'c' * 100_000}\n"
    entry = "  - {{<<: *common, slug: s{:06}, enabled: true}}\n"
    rest = "".join(entry.format(i) for i in range(96_000))
    return f"version: 1\nintegrations:\n{common}{rest}".encode()


def _huge_list() -> bytes:
    # 750 KB: 250,000 wrong scopes, one validation error each if nothing bounds the list.
    return (
        "version: 1\nintegrations:\n  - slug: github\n    scopes: ["
        + ", ".join(["1"] * 250_000)
        + "]\n"
    ).encode()


def _write_50_mb(path: Path) -> None:
    item = "  - slug: github\n    description: " + "x" * 200 + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("version: 1\nintegrations:\n")
        while handle.tell() < 50 * MIB:
            handle.write(item * 1000)


_GENERATED: dict[str, tuple[Callable[[], bytes], str]] = {
    "billion-laughs.yaml": (_billion_laughs, "aliases expand this document beyond"),
    "deep-flow-sequences.yaml": (_deep_flow, "nesting"),
    "deep-flow-mappings.yaml": (_deep_mapping, "nesting"),
    "deep-block-mappings.yaml": (_deep_block, "nesting"),
    "not-utf8.yaml": (_not_utf8, "not UTF-8"),
    "utf16.yaml": (_utf16, "not UTF-8"),
    "bom.yaml": (_bom, ":4:5: unknown key 'colour'"),
    "nul-byte.yaml": (_nul_byte, "U+0000"),
    "15-mib-line.yaml": (_long_line, "unknown key 'colour'"),
    "5000-unknown-keys.yaml": (_unknown_keys(5_000), "unknown key 'key0'"),
    "aliased-long-string.yaml": (_aliased_long_string, ALIASED_BYTES),
    "aliased-nested-lists.yaml": (_aliased_nested_lists, ALIASED_BYTES),
    "aliased-descriptions.yaml": (_aliased_descriptions, ALIASED_BYTES),
    "aliased-merge-keys.yaml": (_aliased_merge_keys, ALIASED_BYTES),
    "250000-scopes.yaml": (_huge_list, "more than 10,000 entries in one list; refused"),
}
_EXTRA: dict[str, tuple[Callable[[], bytes], str]] = {
    "50000-unknown-keys.yaml": (_unknown_keys(50_000), "more than 10,000 entries in one mapping"),
    "200000-unknown-keys.yaml": (_unknown_keys(200_000), "more than 10,000 entries in one mapping"),
}


BIG_FILE = "50-mb.yaml"
CASE_NAMES = [*_GENERATED, BIG_FILE]
"""The names of the cases ``write_hostile_cases`` writes by default."""
ALIAS_BOMBS = [name for name, (_, expect) in _GENERATED.items() if expect == ALIASED_BYTES]
"""The cases whose aliases repeat long strings (1 to 4.6 MB files, gigabytes expanded)."""


def write_hostile_cases(directory: Path, *, extra: bool = False) -> list[HostileCase]:
    """Write the hostile manifests into ``directory``; ``extra`` adds heavier ones.

    The extra ones go beyond the issue's list (thousands of problems in one
    file, a manifest that is a link to ``/dev/zero``) and are not all within
    budget yet.
    """
    cases = []
    generators = {**_GENERATED, **(_EXTRA if extra else {})}
    for name, (make, expect) in generators.items():
        path = directory / name
        path.write_bytes(make())
        cases.append(HostileCase(name, path, expect))
    big = directory / BIG_FILE
    _write_50_mb(big)
    cases.append(HostileCase(big.name, big, "manifests over 16 MiB are refused"))
    if extra and Path("/dev/zero").exists():
        endless = directory / "dev-zero.yaml"
        endless.symlink_to("/dev/zero")
        cases.append(HostileCase(endless.name, endless, ""))
        endless_secret = directory / "secret-file-dev-zero.yaml"
        endless_secret.write_text(
            "version: 1\nintegrations:\n  - slug: github\n    credentials:\n"
            "      type: custom\n      client_id: x\n      client_secret: ${file:/dev/zero}\n"
        )
        cases.append(HostileCase(endless_secret.name, endless_secret, ""))
    return cases


@dataclass(frozen=True)
class Measured:
    """One finished (or killed) command: exit code, wall time, peak RSS, output."""

    exit_code: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool


# Forks the command from a small process and reports its exit, wall time and rusage.
# Linux carries a process's peak RSS across exec, and a child starts with its parent's:
# spawned straight from a large harness (pytest), a command would "peak" at the
# harness's size. Forked from this launcher, it starts at the launcher's few MB.
_LAUNCHER = """
import json, os, resource, sys, time
report, cap, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        if cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as handle:
    json.dump({"status": status, "seconds": seconds, "maxrss": usage.ru_maxrss}, handle)
"""


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    output_dir: Path,
    timeout: float = 60.0,
    memory_cap_mb: int | None = None,
) -> Measured:
    """Run ``argv`` (``argv[0]`` a path) to its end: its wall time and its own peak RSS.

    Wall time spans fork to exit, interpreter start-up included, as a user pays
    it. Peak RSS is the command's ``ru_maxrss`` (``os.wait4``), forked from a
    small launcher so that it is not the harness's. After ``timeout`` seconds
    the command is killed; ``memory_cap_mb`` caps its address space
    (``RLIMIT_AS``), for a case that could eat the machine's memory first.
    """
    out_path, err_path = output_dir / "run.stdout", output_dir / "run.stderr"
    report = output_dir / "run.json"
    report.unlink(missing_ok=True)
    cap = 0 if memory_cap_mb is None else memory_cap_mb * MIB
    launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), str(cap), *argv]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            launcher,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # one process group: a timeout kills the command too
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if not report.exists():
        return Measured(-signal.SIGKILL, timeout, float("nan"), stdout, stderr, timed_out=True)
    measured = json.loads(report.read_text())
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return Measured(
        exit_code=os.waitstatus_to_exitcode(measured["status"]),
        seconds=measured["seconds"],
        peak_rss_mb=measured["maxrss"] / scale,
        stdout=stdout,
        stderr=stderr,
        timed_out=False,
    )


def refusal_problems(stderr: str, manifest: str) -> list[str]:
    """What is wrong with ``stderr`` as a refusal of ``manifest``: ``[]`` when it is right.

    Right: problem lines, each ``<manifest>:line:col: message`` (or
    ``<manifest>: message`` for a file-wide one), then ``Error: the manifest has N
    problem(s).``, and no traceback.
    """
    wrong = []
    lines = stderr.splitlines()
    located = re.compile(rf"^{re.escape(manifest)}(/[^:]+)?(:\d+:\d+)?: \S")
    if "Traceback" in stderr:
        wrong.append("a traceback")
    if not lines or not lines[-1].startswith(LAST_LINE):
        wrong.append(f"no closing {LAST_LINE!r} line")
    problems = lines[:-1]
    if not problems:
        wrong.append("no problem line")
    unlocated = [line for line in problems if not located.match(line)]
    if unlocated:
        wrong.append(f"{len(unlocated)} unlocated line(s), first {unlocated[0][:80]!r}")
    return wrong


UNSAFE = (
    [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\ud800", "\udfff"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
"""Every character ``for_terminal`` must escape, one of each kind."""


def shows_only_safe_text(text: str) -> None:
    """No line of ``text`` is a workflow command, and no raw control or bidi character."""
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line
        assert not [c for c in line if c in UNSAFE and c != "\x1b"], line
