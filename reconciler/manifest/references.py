"""References in a manifest: which a manifest may use, where, and their values.

Three kinds, each with its own place:

- ``${env:NAME}`` and ``${file:PATH}`` are **secrets**: they resolve in
  ``credentials.client_secret`` only, become a ``Secret`` (never printed,
  never compared for display) and are sent at apply time. Anywhere else they
  are a problem.
- ``${var:NAME}`` / ``${var:NAME:-default}`` are **plain variables**: they
  resolve in string fields other than the secret, and their values are
  printed like any literal (they are never secrets).

Every reference is first checked against the policy from what is written
alone (the variable's name, whatever its shape; the file's path) before
anything is looked up, so a refusal reads the same whether or not the
variable is set or the file exists. ``WORKOS_API_KEY`` is never resolvable,
and a value that contains the API key (in any case) is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from reconciler.manifest.files import Unreadable, read_bounded
from reconciler.policy import API_KEY_VARIABLE, Policy
from reconciler.secrets import MAX_SECRET_CHARS, MIN_SECRET_CHARS, Redactor, Secret

MAX_SECRETS: Final = 1000
"""Distinct client secrets one run may resolve: far above any real environment."""
MAX_SECRET_FILE_BYTES: Final = 4 * MAX_SECRET_CHARS
"""Bytes read of a secret file (UTF-8, whitespace around it included)."""

# A whole value written as a reference (``${kind:body}``), and the start of one anywhere.
REFERENCE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_-]*):([^}]*)\}")
REFERENCE_START = re.compile(r"\$\{[A-Za-z][A-Za-z0-9_-]*:")
SECRET_KINDS: Final = ("env", "file")
VAR_KIND: Final = "var"
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Reference:
    """A whole value written as ``${kind:body}``, split (``name:-default`` for vars)."""

    written: str
    kind: str
    body: str

    @classmethod
    def parse(cls, value: str) -> Reference | None:
        match = REFERENCE.fullmatch(value)
        return None if match is None else cls(value, match.group(1), match.group(2))

    @property
    def name(self) -> str:
        """The variable's name as written (for ``env`` and ``var``), before any ``:-``."""
        return self.body.partition(":-")[0]

    @property
    def shown(self) -> str:
        """The reference as messages quote it: a default, if any, as ``…`` (in a client
        secret a default would be a literal secret)."""
        if self.default is None:
            return self.written
        return f"${{{self.kind}:{self.name}:-…}}"

    @property
    def default(self) -> str | None:
        _, separator, default = self.body.partition(":-")
        return default if separator else None


def name_problem(name: str) -> str | None:
    """Why ``name`` can't be a variable's name (checked after the policy allowed it)."""
    if _VALID_NAME.fullmatch(name):
        return None
    return "is not a valid variable name (letters, digits and _, not starting with a digit)"


@dataclass
class Resolver:
    """Resolves the references of one run under ``policy``; ``environ`` gives variables.

    ``redactor`` learns every client secret as it is read: the net under
    foreign text (API messages, library logs) that could echo one. Distinct
    secrets are counted for ``MAX_SECRETS``.
    """

    policy: Policy
    environ: Mapping[str, str]
    redactor: Redactor = field(default_factory=Redactor)
    _seen: dict[str, Secret] = field(default_factory=dict)

    @property
    def api_key(self) -> str:
        return self.environ.get(API_KEY_VARIABLE, "")

    # --- decisions from what is written ----------------------------------------------

    def secret_refusal(self, reference: Reference, manifest_file: str) -> str | None:
        """Why a client_secret reference may not be used, from what is written alone."""
        if reference.kind == "file":
            return self.policy.file_refusal(self._real(manifest_file, reference.body))
        if reference.default is not None:
            return (
                "a default (:-) is not allowed here: it would be a literal secret in the "
                f"manifest; write ${{env:{reference.name}}} and set the variable"
            )
        refusal = self.policy.env_refusal(reference.body)
        return refusal if refusal is not None else name_problem(reference.body)

    def var_refusal(self, reference: Reference) -> str | None:
        """Why ``${var:...}`` may not be used, from the name alone."""
        refusal = self.policy.var_refusal(reference.name)
        return refusal if refusal is not None else name_problem(reference.name)

    # --- values ---------------------------------------------------------------------

    def var(self, name: str) -> str | None:
        """An allowed plain variable's value (None if unset). Raises ``RefusedValue`` when
        it holds the API key."""
        value = self.environ.get(name)
        if value is not None:
            self._check_not_api_key(value)
        return value

    def secret_env(self, name: str) -> tuple[Secret | None, str | None]:
        """An allowed variable's value as a client secret, or why it can't be one."""
        value = self.environ.get(name)
        if value is None:
            return None, f"environment variable {name} is not set"
        return self._secret(value.strip())  # a trailing newline is never meant

    def secret_file(self, manifest_file: str, target: str) -> tuple[Secret | None, str | None]:
        """An allowed file's text as a client secret (whitespace stripped), or why not."""
        try:
            data = read_bounded(
                self._real(manifest_file, target), MAX_SECRET_FILE_BYTES, follow=False
            )
        except Unreadable as error:
            return None, str(error)
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            return None, "the file is not UTF-8 text"
        return self._secret(value.strip())

    def _secret(self, value: str) -> tuple[Secret | None, str | None]:
        """A checked secret: its size (bounds known to the manifest's author, so never a
        function of the value beyond them), not the API key, within the run's count."""
        if not value:
            return None, "the value is empty"
        if not MIN_SECRET_CHARS <= len(value) <= MAX_SECRET_CHARS:
            return None, (
                f"a client secret must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} "
                "characters long; refused"
            )
        try:
            self._check_not_api_key(value)
        except RefusedValue as error:
            return None, str(error)
        known = self._seen.get(value)
        if known is not None:
            return known, None
        if len(self._seen) >= MAX_SECRETS:
            return None, f"more than {MAX_SECRETS} distinct client secrets in one run; refused"
        secret = self._seen[value] = Secret(value)
        self.redactor.add_secret(secret)
        return secret, None

    def _check_not_api_key(self, value: str) -> None:
        key = self.api_key.strip()
        if key and key.casefold() in value.casefold():
            raise RefusedValue(f"the value contains the API key ({API_KEY_VARIABLE}); refused")

    @staticmethod
    def _real(manifest_file: str, target: str) -> str:
        """The referenced file's real path (relative to the manifest's directory)."""
        directory = os.path.dirname(os.path.abspath(manifest_file))
        return os.path.realpath(os.path.join(directory, target))


class RefusedValue(Exception):
    """A referenced value that must not be used (it holds the API key)."""
