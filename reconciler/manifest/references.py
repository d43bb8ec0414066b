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
import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.manifest.files import Unreadable, read_bounded
from reconciler.models import SECRET_REFERENCE
from reconciler.policy import API_KEY_VARIABLE, Policy
from reconciler.secrets import Redactor, Secret

MAX_SECRET_FILE_BYTES = 64 * 2**10
# A whole value that is a reference; an ``${env:...}`` one with a valid name
# (and maybe a default); the start of one anywhere (text around it is an error).
REFERENCE = re.compile(r"\$\{(env|file):([^}]*)\}")
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
REFERENCE_START = re.compile(r"\$\{(?:env|file):")
# A whole value written as a reference of any kind (``${vault:x}``): only env and file exist.
ANY_REFERENCE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_-]*):[^}]*\}")
KINDS = ("env", "file")


def unknown_kind(value: str) -> str | None:
    """The kind of a whole-value reference that is neither ``env`` nor ``file``
    (``vault`` for ``${vault:x}``), or None."""
    match = ANY_REFERENCE.fullmatch(value)
    if match is None or match.group(1) in KINDS:
        return None
    return match.group(1)


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

    def secret_refusal(self, reference: str, manifest_file: str) -> str | None:
        """Why the policy refuses a client_secret reference (None if it allows it, or if
        it is not a reference at all: validation says so)."""
        match = SECRET_REFERENCE.fullmatch(reference)
        if match is None:
            return None
        scheme, target = match.groups()
        if scheme == "file":
            return self.file_refusal(manifest_file, target)
        env = ENV_REFERENCE.fullmatch(reference)
        return None if env is None else self.env_refusal(env.group(1))

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
