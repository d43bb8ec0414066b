"""Which files a run reads, and how: manifests found, paths confined, reads bounded.

A pull request controls the manifests but not the machine that reads them:
it must not make the tool read (and quote) a file from elsewhere through a
symlink or a ``..``, nor hang on a FIFO or a device, nor exhaust memory with a
huge file or a huge tree. Paths are confined by real path, component by
component: a relative path to the working directory (a saved plan's too),
a file found in a directory to that directory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from reconciler.errors import ConfigError, Problem
from reconciler.policy import inside

MANIFEST_SUFFIXES = (".yaml", ".yml")
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_MANIFEST_FILES = 1_000
"""Manifest files read in one run (a directory is read recursively)."""
MAX_DIRECTORY_DEPTH = 16
OUTSIDE_WORKING_DIRECTORY = "outside the working directory; refused"
OUTSIDE_DIRECTORY = "a symlink to a file outside its directory; refused"
DEFAULT_FILE = "integrations.yaml"
DEFAULT_DIRECTORY = "integrations"


class Unreadable(Exception):
    """A file that cannot be read as a manifest or a secret; the message says why."""


def default_manifests(directory: str | os.PathLike[str] = ".") -> list[str]:
    """The manifests a command reads when none is named: ``integrations.yaml`` if it
    exists in ``directory``, else its ``integrations/`` directory; a ``ConfigError``
    naming both when neither is there."""
    base = os.fspath(directory)
    if os.path.lexists(os.path.join(base, DEFAULT_FILE)):
        return [_shown(base, DEFAULT_FILE)]
    if os.path.isdir(os.path.join(base, DEFAULT_DIRECTORY)):
        return [_shown(base, DEFAULT_DIRECTORY)]
    where = "the current directory" if base in ("", ".") else base
    raise ConfigError(
        f"no manifest given, and neither {DEFAULT_FILE} nor an {DEFAULT_DIRECTORY}/ directory "
        f"is in {where}: pass -f FILE or -f DIRECTORY"
    )


def _shown(base: str, name: str) -> str:
    return name if base in ("", ".") else os.path.join(base, name)


def manifest_files(
    paths: Iterable[str | os.PathLike[str]], problems: list[Problem]
) -> list[tuple[str, Path]]:
    """The manifest files to read, as (name to show, real path), each once.

    Confined by real path, component by component, without saying where a
    symlink points (a pull request must not make the tool read, and quote, a
    file from elsewhere): a relative path to the working directory; a file
    found inside a directory to that directory; an absolute file to its own
    directory. A directory is read recursively (``*.yaml`` and ``*.yml``,
    hidden directories skipped), in the order of the files' relative paths.
    """
    given = [os.fspath(path) for path in paths]
    found: list[tuple[str, Path]] = []
    for display in given:
        found.extend(_found(display, problems))
    unique: dict[str, tuple[str, Path]] = {}
    for display, real in found:
        unique.setdefault(os.fspath(real), (display, real))
    if len(unique) > MAX_MANIFEST_FILES:
        message = f"{len(unique):,} manifest files; at most {MAX_MANIFEST_FILES:,} are read at once"
        problems.append(Problem(given[0], 0, 0, message))
        return []
    return list(unique.values())


def _found(display: str, problems: list[Problem]) -> list[tuple[str, Path]]:
    """A file given, or a directory's manifests; confined as ``manifest_files`` says."""
    relative = not os.path.isabs(display)
    real = confined_real(display, os.path.realpath(os.curdir)) if relative else None
    if relative and real is None:
        problems.append(Problem(display, 0, 0, OUTSIDE_WORKING_DIRECTORY))
        return []
    real = real or os.path.realpath(display)
    if os.path.isdir(real):
        return _walk(display, real, problems)
    if not os.path.lexists(display):
        problems.append(Problem(display, 0, 0, "no such file or directory"))
        return []
    if not relative and not inside(real, os.path.realpath(os.path.dirname(display))):
        problems.append(Problem(display, 0, 0, OUTSIDE_DIRECTORY))
        return []
    return [(display, Path(real))]


def confined_real(path: str, root: str) -> str | None:
    """The real path of ``path`` (relative to the working directory), or None if it or
    any component on the way (a symlink resolved, a ``..``) leaves ``root``."""
    current = os.path.realpath(os.curdir)
    for part in Path(path).parts:
        current = os.path.realpath(os.path.join(current, part))
        if current != root and not inside(current, root):
            return None
    return current


def _walk(display: str, root: str, problems: list[Problem]) -> list[tuple[str, Path]]:
    """Every manifest under the directory ``root`` (real), in the order of their relative
    paths; a symlink (to a file or a directory) that leaves ``root`` is refused, unread."""
    found: list[tuple[tuple[str, ...], str, Path]] = []
    visited = {root}
    pending: list[tuple[tuple[str, ...], str]] = [((), root)]
    while pending and len(found) <= MAX_MANIFEST_FILES:
        parts, directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            where = os.path.join(display, *parts)
            problems.append(Problem(where, 0, 0, f"cannot read: {error.strerror or error}"))
            continue
        for entry in entries:
            relative = (*parts, entry.name)
            shown = os.path.join(display, *relative)
            real = os.path.realpath(entry.path)
            is_dir = os.path.isdir(real)
            if not is_dir and Path(entry.name).suffix not in MANIFEST_SUFFIXES:
                continue
            if is_dir and (entry.name.startswith(".") or real in visited):
                continue
            if real != root and not inside(real, root):
                problems.append(Problem(shown, 0, 0, OUTSIDE_DIRECTORY))
            elif is_dir:
                if len(relative) > MAX_DIRECTORY_DEPTH:
                    problems.append(Problem(shown, 0, 0, "directories nested too deep; refused"))
                    continue
                visited.add(real)
                pending.append((relative, real))
            elif os.path.isfile(real):
                found.append((relative, shown, Path(real)))
            if len(found) > MAX_MANIFEST_FILES:
                break
    if not found:
        looked = "no *.yaml or *.yml manifest in this directory or any directory below it"
        problems.append(Problem(display, 0, 0, looked))
    return [(shown, real) for _, shown, real in sorted(found)]


def read_bounded(
    path: str | os.PathLike[str],
    limit: int,
    *,
    follow: bool = True,
    what: str = "files",
    advice: str = "",
) -> bytes:
    """A regular file's bytes, refusing devices, FIFOs and anything over ``limit``
    ("file is 17.0 MiB; ``what`` over 16 MiB are refused ``advice``").

    With ``follow=False`` the last component must not be a symlink (for a path
    already resolved and checked: a symlink swapped in since is refused).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except OSError as error:
        raise Unreadable(f"cannot read: {error.strerror or error}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise Unreadable("not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            info = os.fstat(handle.fileno())
            if info.st_size > limit:
                raise Unreadable(too_large(info.st_size, limit, what, advice))
            data = handle.read(limit + 1)
        except OSError as error:
            raise Unreadable(f"cannot read: {error.strerror or error}") from None
    if len(data) > limit:
        raise Unreadable(too_large(len(data), limit, what, advice))
    return data


def too_large(size: int, limit: int, what: str = "files", advice: str = "") -> str:
    """Why a file over ``limit`` bytes is refused: what is refused, and ``advice``."""
    if limit >= 2**20:
        refused = f"file is {size / 2**20:.1f} MiB; {what} over {limit // 2**20} MiB are refused"
        return refused + (f" ({advice})" if advice else "")
    return f"file is over {limit // 2**10} KiB; refused"
