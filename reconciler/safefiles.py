"""Every file the tool writes, written without following a link.

A pull request can commit symlinks: ``plan.json`` pointing at the Action's own
``reconciler`` script, or a directory pointing out of the checkout. A write
that followed one would let the pull request choose what the tool
overwrites. So the directory is walked one component at a time, each opened
with ``O_NOFOLLOW`` (a symlink anywhere in the path is refused); the text
goes to a temporary file created there exclusively, which is then renamed
over the target (a regular file or nothing). The GitHub step summary, which
the runner creates, is appended to with ``O_APPEND | O_NOFOLLOW``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator

from reconciler.errors import UnsafeWriteError
from reconciler.escaping import path_for_terminal

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def write_text(path: str, text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` (UTF-8) at ``path`` through a temporary file renamed over it.

    Refused (``UnsafeWriteError``): a symlink at ``path`` or in any directory
    above it, or a target that is not a regular file. Without ``overwrite``
    an existing target is a ``FileExistsError``. Other failures are
    ``OSError``s for the caller to word.
    """
    directory, name = os.path.split(path)
    if not name:
        raise UnsafeWriteError(f"cannot write {_shown(path)}: it names a directory")
    with _opened_directory(directory, path) as parent:
        _check_target(parent, name, path)
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        descriptor = os.open(temporary, flags, 0o666, dir_fd=parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            if overwrite:
                _check_target(parent, name, path)  # a link swapped in since is refused
                os.rename(temporary, name, src_dir_fd=parent, dst_dir_fd=parent)
            else:
                # a hard link, unlike a rename, never replaces what is there
                os.link(temporary, name, src_dir_fd=parent, dst_dir_fd=parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=parent)


def append_text(path: str, text: str) -> None:
    """Append ``text`` (UTF-8) to ``path`` (created if missing), never through a link.

    For the GitHub step summary: ``O_APPEND | O_NOFOLLOW``, in a directory
    reached without following a link; it must be a regular file.
    """
    directory, name = os.path.split(path)
    with _opened_directory(directory, path) as parent:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC
        try:
            descriptor = os.open(name, flags, 0o666, dir_fd=parent)
        except OSError as error:
            if _is_link(parent, name):
                raise UnsafeWriteError(_link_message(path, path)) from None
            raise error
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise UnsafeWriteError(f"cannot write {_shown(path)}: not a regular file")
            handle.write(text)


@contextlib.contextmanager
def _opened_directory(directory: str, path: str) -> Iterator[int]:
    """A descriptor of ``directory`` ("" for the current one), reached component by
    component from ``/`` or ``.`` without following any symlink."""
    start = os.sep if os.path.isabs(directory) else os.curdir
    descriptor = os.open(start, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        walked = start if os.path.isabs(directory) else ""
        for part in [p for p in directory.split(os.sep) if p not in ("", os.curdir)]:
            walked = os.path.join(walked, part)
            flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
            try:
                child = os.open(part, flags, dir_fd=descriptor)
            except OSError:
                if _is_link(descriptor, part):
                    raise UnsafeWriteError(_link_message(path, walked)) from None
                raise
            os.close(descriptor)
            descriptor = child
        yield descriptor
    finally:
        os.close(descriptor)


def _check_target(parent: int, name: str, path: str) -> None:
    try:
        info = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeWriteError(_link_message(path, path))
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeWriteError(f"cannot write {_shown(path)}: it exists and is not a regular file")


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode)
    except OSError:
        return False


def _link_message(path: str, link: str) -> str:
    where = "it is" if link == path else f"{_shown(link)} is"
    return (
        f"cannot write {_shown(path)}: {where} a symbolic link; refused "
        "(files are never written through a link: give a path without one)"
    )


def _shown(path: str) -> str:
    return path_for_terminal(path)
