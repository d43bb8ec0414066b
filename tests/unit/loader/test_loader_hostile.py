"""Tests of the manifest loader on edge cases and hostile files: empty, BOM, not UTF-8,
billion laughs, deep nesting, oversized files, devices and FIFOs, capped problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load
from tests.support.loader import _files_policy, _problems


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    problems = _problems([empty])
    assert [str(p) for p in problems] == [
        f"{empty}: empty manifest; expected a mapping with version: 1"
    ]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    manifest = tmp_path / "bom.yaml"
    manifest.write_bytes(b"\xef\xbb\xbfversion: 1\nintegrations:\n  - slug: github\n")
    desired = load([manifest], environ={})
    assert desired.integrations[0].source.line == 3


def test_non_utf8_file(tmp_path: Path) -> None:
    manifest = tmp_path / "latin1.yaml"
    manifest.write_bytes(
        "version: 1\nintegrations:\n  - slug: github\n    description: café\n".encode("latin-1")
    )
    (problem,) = _problems([manifest])
    assert (problem.line, problem.column) == (4, 21)
    assert "not UTF-8" in problem.message


def test_billion_laughs(tmp_path: Path) -> None:
    lines = [
        "version: 1",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    manifest = tmp_path / "laughs.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    (problem,) = _problems([manifest])
    assert "aliases expand this document beyond" in problem.message


def test_very_deep_nesting(tmp_path: Path) -> None:
    manifest = tmp_path / "deep.yaml"
    manifest.write_text("version: 1\nintegrations: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (problem,) = _problems([manifest])
    assert "nesting" in problem.message  # libyaml's own limit, or ours
    assert problem.line == 2


def test_a_50_mb_file_is_refused_before_parsing(tmp_path: Path) -> None:
    from reconciler.manifest.files import MAX_MANIFEST_BYTES

    big = tmp_path / "big.yaml"
    line = "  - slug: github\n    description: " + "x" * 200 + "\n"
    with big.open("w") as handle:
        handle.write("version: 1\nintegrations:\n")
        while handle.tell() < 50 * 2**20:
            handle.write(line * 1000)
    assert big.stat().st_size > MAX_MANIFEST_BYTES
    with pytest.raises(ManifestError) as caught:
        load([big])
    (problem,) = caught.value.problems
    assert problem.file == str(big)
    assert "manifests over 16 MiB are refused" in problem.message


@pytest.mark.parametrize("kind", ["manifest", "secret"])
def test_devices_and_fifos_are_refused_without_reading(tmp_path: Path, kind: str) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device = tmp_path / "zero.yaml"
    device.symlink_to("/dev/zero")
    manifest = tmp_path / "m.yaml"
    if kind == "manifest":
        paths = [fifo, device]
    else:
        manifest.write_text(
            "version: 1\nintegrations:\n"
            "  - slug: github\n    credentials:\n      type: custom\n      client_id: x\n"
            "      client_secret: ${file:zero.yaml}\n"
            "  - slug: slack\n    credentials:\n      type: custom\n      client_id: x\n"
            "      client_secret: ${file:fifo}\n"
        )
        paths = [manifest]
    # secrets: a policy allowing the directory's files, so the FIFO is judged by its kind
    policy = _files_policy(tmp_path, "*")
    with pytest.raises(ManifestError) as caught:
        load(paths, policy=policy)
    messages = sorted(p.message for p in caught.value.problems)
    assert len(messages) == 2
    # the FIFO is not read; the symlink to /dev/zero leaves the manifest's tree (the
    # policy's roots): refused before anything is opened, without saying where it points
    assert sum("not a regular file" in m for m in messages) == 1
    outside = "symlink to a file outside" if kind == "manifest" else f"not allowed by {policy.name}"
    assert sum(outside in m for m in messages) == 1
    assert not any("/dev/zero" in m for m in messages)


@pytest.mark.parametrize(
    ("size", "why"),
    [
        (100_000, "file is over 16 KiB; refused"),
        (16 * 2**10 + 1, "file is over 16 KiB; refused"),
        (4097, "a client secret must be 8 to 4096 characters long; refused"),
        (7, "a client secret must be 8 to 4096 characters long; refused"),
    ],
)
def test_an_oversized_secret_file_is_refused(tmp_path: Path, size: int, why: str) -> None:
    (tmp_path / "big.txt").write_text("s" * size)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: x\n      client_secret: ${file:big.txt}\n"
    )
    with pytest.raises(ManifestError) as caught:
        load([manifest], policy=_files_policy(tmp_path, "*.txt"))
    (problem,) = caught.value.problems
    assert problem.message == f"client_secret: ${{file:big.txt}}: {why}"
    assert "sss" not in problem.message


def test_problems_are_capped_per_file(tmp_path: Path) -> None:
    from reconciler.manifest.manifestfile import MAX_PROBLEMS_PER_FILE

    manifest = tmp_path / "m.yaml"
    keys = "".join(f"    unknown{i}: 1\n" for i in range(5000))
    manifest.write_text(f"version: 1\nintegrations:\n  - slug: github\n{keys}")
    with pytest.raises(ManifestError) as caught:
        load([manifest])
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    assert problems[0].message == (
        f"{5000 - MAX_PROBLEMS_PER_FILE} more problems not shown "
        f"(the first {MAX_PROBLEMS_PER_FILE} are)"
    )
