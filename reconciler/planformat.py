"""The saved-plan file format (version 3), as frozen pydantic models.

``planfile.read`` validates a file against ``SavedPlanFile`` (strict types,
no unknown key) before anything in it is used: a file that does not fit is
refused as a whole. The ``plan`` part is the JSON plan document, checked by
its own models (``reconciler.plandocument``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from reconciler.plandocument import PlanDocument

FILE_KIND = "reconciler-saved-plan"
FILE_VERSION = 3
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class PolicyStamp(_Record):
    """The policy in force when the plan was made."""

    name: str
    sha256: str


class ManifestStamp(_Record):
    """The manifest files (relative to the directory ``plan`` ran in) and their digest."""

    files: tuple[str, ...]
    sha256: str

    @field_validator("files")
    @classmethod
    def _relative(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        for name in files:
            if not name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
                raise ValueError("manifest paths are relative to the working directory")
        return files


class ActionDigests(_Record):
    """Keyed digests of what one action does and of the client secret it sends."""

    change: str
    secret: str | None


class SavedPlanFile(_Record):
    """A saved plan's whole content."""

    kind: Literal["reconciler-saved-plan"]
    version: Literal[3]
    api_url: str
    api_key_fingerprint: str
    policy: PolicyStamp
    manifest: ManifestStamp
    salt: str
    rotate_secrets: bool
    no_secrets: bool = False
    created_at: str | None = None
    """When the plan was made (UTC, ``2026-01-02T03:04:05Z``), for ``reconciler show``."""
    targets: tuple[str, ...] = ()
    digests: tuple[ActionDigests, ...]
    plan: PlanDocument

    @field_validator("salt")
    @classmethod
    def _hex(cls, salt: str) -> str:
        if not _HEX.fullmatch(salt):
            raise ValueError("the salt is hexadecimal")
        return salt

    @model_validator(mode="after")
    def _one_digest_per_change(self) -> SavedPlanFile:
        if len(self.digests) != len(self.plan.changes):
            raise ValueError("one digest per change")
        return self
