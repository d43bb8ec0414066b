"""Which files a run reads, and how: manifests found, symlinks confined, reads bounded.

A pull request controls the manifests but not the machine that reads them:
it must not make the tool read (and quote) a file from elsewhere through a
symlink, nor hang on a FIFO or a device, nor exhaust memory with a huge file.
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
    """The manifest files to read, as (name to show, path), each once.

    A file that is a symlink out of its directory (the one given, or the one
    holding the file given) is refused without saying where it points: a pull
    request must not make the tool read, and quote, a file from elsewhere.
    """
    found: list[tuple[str, Path]] = []
    for given in paths:
        found.extend(_found(given, problems))
    return _confined(found, problems)


def _found(given: str | os.PathLike[str], problems: list[Problem]) -> list[tuple[str, Path]]:
    """A file given, or a directory's ``*.yaml`` and ``*.yml`` files in name order."""
    display, path = os.fspath(given), Path(given)
    if path.is_dir():
        children = sorted(
            (c for c in path.iterdir() if c.suffix in MANIFEST_SUFFIXES and c.is_file()),
            key=lambda child: child.name,
        )
        if not children:
            problems.append(Problem(display, 0, 0, "no *.yaml or *.yml manifest in directory"))
        return [(os.path.join(display, child.name), child) for child in children]
    if path.exists() or path.is_symlink():
        return [(display, path)]
    problems.append(Problem(display, 0, 0, "no such file or directory"))
    return []


def _confined(found: list[tuple[str, Path]], problems: list[Problem]) -> list[tuple[str, Path]]:
    """Each file once (by its real path), none a symlink out of its directory."""
    seen: set[str] = set()
    unique = []
    for display, path in found:
        real = os.path.realpath(path)
        if not inside(real, os.path.realpath(path.parent)):
            message = "a symlink to a file outside its directory; refused"
            problems.append(Problem(display, 0, 0, message))
        elif real not in seen:
            seen.add(real)
            unique.append((display, path))
    return unique


def read_bounded(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """A regular file's bytes, refusing devices, FIFOs and anything over ``limit``.

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
    with os.fdopen(descriptor, "rb") as handle:
        try:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise Unreadable("not a regular file")
            if info.st_size > limit:
                raise Unreadable(too_large(info.st_size, limit))
            data = handle.read(limit + 1)
        except OSError as error:
            raise Unreadable(f"cannot read: {error.strerror or error}") from None
    if len(data) > limit:
        raise Unreadable(too_large(len(data), limit))
    return data


def too_large(size: int, limit: int) -> str:
    if limit >= 2**20:
        return (
            f"file is {size / 2**20:.1f} MiB; manifests over {limit // 2**20} MiB are refused "
            "(split it into several files)"
        )
    return f"file is over {limit // 2**10} KiB; refused"
