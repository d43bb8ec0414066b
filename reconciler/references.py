"""``${env:NAME}`` and ``${file:PATH}``: whether a manifest may use one, and its value.

Every reference is first checked against the policy from what is written alone
(the variable's name, the file's path) before anything is looked up, so a
refusal reads the same whether or not the variable is set or the file exists.
``WORKOS_API_KEY`` is never resolvable, and a value equal to the API key is
refused whatever the variable's name. Every value read is registered with the
run's redactor as soon as it is read (client secrets with their usual
transforms, plain values as whole values), before the manifest is validated,
so no message built afterwards can show it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.policy import API_KEY_VARIABLE, Policy
from reconciler.secrets import Redactor, Secret

MAX_SECRET_FILE_BYTES = 64 * 2**10


class Unreadable(Exception):
    """A file that cannot be read as a manifest or a secret; the message says why."""


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


@dataclass
class Resolver:
    """Resolves the references of one run under ``policy``.

    ``environ`` gives ``${env:}`` values; ``redactor`` learns every value read.
    """

    policy: Policy
    environ: Mapping[str, str]
    redactor: Redactor

    @property
    def api_key(self) -> str:
        return self.environ.get(API_KEY_VARIABLE, "")

    def env_refusal(self, name: str) -> str | None:
        """Why ``${env:name}`` may not be used (from the name alone), or None."""
        return self.policy.env_refusal(name)

    def file_refusal(self, manifest_file: str, target: str) -> str | None:
        """Why ``${file:target}`` in ``manifest_file`` may not be read (from the path
        alone, the same whether or not it exists), or None."""
        real, root = self._real(manifest_file, target)
        return self.policy.file_refusal(real, root)

    def plain_env(self, name: str) -> str | None:
        """An allowed variable's value for a plain field (None if unset), registered
        as a whole value. Raises ``RefusedValue`` when it is the API key."""
        value = self.environ.get(name)
        if value is None:
            return None
        self._check_not_api_key(value)
        self.redactor.add_value(value)
        return value

    def secret_env(self, name: str) -> tuple[Secret | None, str | None]:
        """An allowed variable's value as a client secret, or why it can't be one."""
        value = self.environ.get(name)
        if value is None:
            return None, f"environment variable {name} is not set"
        value = value.strip()  # as for ${file:} secrets: a trailing newline is never meant
        if not value:
            return None, f"environment variable {name} is empty"
        return self._secret(value)

    def secret_file(self, manifest_file: str, target: str) -> tuple[Secret | None, str | None]:
        """An allowed file's text as a client secret (whitespace stripped), or why not."""
        real, _ = self._real(manifest_file, target)
        try:
            value = read_bounded(real, MAX_SECRET_FILE_BYTES, follow=False).decode("utf-8")
        except Unreadable as error:
            return None, str(error)
        except UnicodeDecodeError:
            return None, "the file is not UTF-8 text"
        value = value.strip()
        if not value:
            return None, "the file is empty"
        return self._secret(value)

    def _secret(self, value: str) -> tuple[Secret | None, str | None]:
        try:
            self._check_not_api_key(value)
        except RefusedValue as error:
            return None, str(error)
        self.redactor.add_secret(value)
        return Secret(value), None

    def _check_not_api_key(self, value: str) -> None:
        key = self.api_key
        if key and value.strip() == key.strip():
            raise RefusedValue(f"the value is the API key ({API_KEY_VARIABLE}); refused")

    @staticmethod
    def _real(manifest_file: str, target: str) -> tuple[str, str]:
        """The referenced file's real path, and the manifest's real directory."""
        directory = os.path.dirname(os.path.abspath(manifest_file))
        return os.path.realpath(os.path.join(directory, target)), os.path.realpath(directory)


class RefusedValue(Exception):
    """A referenced value that must not be used (it is the API key)."""
