"""One manifest file: read, parsed, interpolated and validated; what survives its problems.

A file with problems still gives its valid parts (its settings, its valid
integrations) so that the checks across files can run on them too: a run
reports every problem at once, not one file's worth at a time. An integration
with problems of its own still takes part in those checks through what of it
is valid (its slug, ownership and custom provider): a duplicate is reported
along with its misspelt key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reconciler.errors import Problem
from reconciler.manifest.files import MAX_MANIFEST_BYTES, Unreadable, read_bounded
from reconciler.manifest.interpolation import Interpolator
from reconciler.manifest.messages import kind_of
from reconciler.manifest.references import Resolver
from reconciler.models import Integration, Manifest, Settings, Source
from reconciler.yamlsource import Document, parse

MAX_PROBLEMS_PER_FILE = 200
MAX_INTEGRATIONS = 10_000
"""Integrations in one run (all files together), a busy environment's worst case."""
ValidParts = tuple[Settings | None, list[tuple[int, Integration, bool]]]
_CHECKED_ACROSS = ("slug", "ownership", "custom_provider")
"""The fields of an integration with problems that the checks across entries still read."""


@dataclass(frozen=True)
class IntegrationEntry:
    """An integration of one file, with where it was written. ``partial``: the entry
    has problems of its own, and ``spec`` holds only its valid identity and custom
    provider, for the checks across entries."""

    spec: Integration
    doc: Document
    index: int
    partial: bool = False

    @property
    def source(self) -> Source:
        mark = self.doc.locate(("integrations", self.index))
        return Source(self.doc.file, mark.line, mark.column)

    def problem(self, message: str, *path: str, key: bool = False) -> Problem:
        mark = self.doc.locate(("integrations", self.index, *path), key=key)
        return Problem(self.doc.file, mark.line, mark.column, message)

    def place(self, *path: str) -> str:
        mark = self.doc.locate(("integrations", self.index, *path), key=True)
        return f"{self.doc.file}:{mark.line}:{mark.column}"


@dataclass
class ManifestFile:
    """One manifest file: what validated, and whether it gave settings."""

    doc: Document
    settings_given: bool = False
    settings: Settings | None = None
    entries: list[IntegrationEntry] = field(default_factory=list)


def load_file(
    display: str,
    path: Path,
    problems: list[Problem],
    resolver: Resolver,
    *,
    strict: bool,
) -> ManifestFile:
    """Parse, interpolate and validate one file; its valid integrations survive its problems."""
    try:
        data = read_bounded(
            path, MAX_MANIFEST_BYTES, what="manifests", advice="split it into several files"
        )
    except Unreadable as error:
        problems.append(Problem(display, 0, 0, str(error)))
        return ManifestFile(Document(display, None))
    doc = parse(data, display, top_level_lists={"integrations": MAX_INTEGRATIONS})
    problems.extend(doc.problems)
    file = ManifestFile(doc)
    if doc.fatal:
        return file
    root = doc.root
    if root is None or root.entries is None:
        problems.append(_not_a_manifest(doc))
        return file
    interpolator = Interpolator(doc, resolver, strict=strict)
    content = interpolator.interpolate(root)
    problems.extend(interpolator.problems)
    valid = _validate(content, interpolator, problems)
    if valid is None:
        return file
    file.settings, integrations = valid
    file.settings_given = "settings" in root.entries
    file.entries = [
        IntegrationEntry(spec, doc, index, partial) for index, spec, partial in integrations
    ]
    return file


def _not_a_manifest(doc: Document) -> Problem:
    """Why a parsed file whose root is not a mapping cannot be a manifest at all."""
    root = doc.root
    if root is None or root.value is None:
        return Problem(doc.file, 0, 0, "empty manifest; expected a mapping with version: 1")
    shown = kind_of(root.value)  # never quoted: the file may not be a manifest at all
    message = f"a manifest must be a mapping with version: 1, not {shown}"
    return Problem(doc.file, root.mark.line, root.mark.column, message)


def _validate(
    content: dict[str, Any], interpolator: Interpolator, problems: list[Problem]
) -> ValidParts | None:
    """The file's valid parts, its validation errors reported (at most
    ``MAX_PROBLEMS_PER_FILE`` of them); None if its version is wrong or missing."""
    try:
        manifest = Manifest.model_validate(content)
    except ValidationError as error:
        details = _relevant(error.errors(include_url=False))
        problems.extend(interpolator.problems_for(details[:MAX_PROBLEMS_PER_FILE]))
        if len(details) > MAX_PROBLEMS_PER_FILE:
            hidden = len(details) - MAX_PROBLEMS_PER_FILE
            message = f"{hidden} more problems not shown (the first {MAX_PROBLEMS_PER_FILE} are)"
            problems.append(Problem(interpolator.doc.file, 0, 0, message))
        if any(detail["loc"] == ("version",) for detail in details):
            return None
        return _valid_parts(content, details)
    return manifest.settings, [(i, spec, False) for i, spec in enumerate(manifest.integrations)]


def _relevant(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """A wrong version makes every other error of the file moot."""
    wrong_version = [d for d in details if d["loc"] == ("version",) and d["type"] != "missing"]
    return wrong_version or details


def _valid_parts(data: dict[str, Any], details: list[ErrorDetails]) -> ValidParts:
    """The settings and integrations of a file that have no error of their own, and
    the valid parts of those that do (``partial``)."""
    locs = [detail["loc"] for detail in details]
    settings = None
    if not any(loc[:1] == ("settings",) for loc in locs) and isinstance(data.get("settings"), dict):
        settings = Settings.model_validate(data["settings"])
    items = data.get("integrations")
    if not isinstance(items, list) or ("integrations",) in locs:
        return settings, []
    failed: dict[int, set[str | int]] = {}
    for loc in locs:
        if loc[:1] == ("integrations",) and len(loc) > 1 and isinstance(loc[1], int):
            failed.setdefault(loc[1], set()).update(loc[2:3])
    parts: list[tuple[int, Integration, bool]] = []
    for index, item in enumerate(items):
        if index not in failed:
            parts.append((index, Integration.model_validate(item), False))
            continue
        partial = _partial(item, failed[index])
        if partial is not None:
            parts.append((index, partial, True))
    return settings, parts


def _partial(item: object, failed: set[str | int]) -> Integration | None:
    """What the checks across entries read of an integration with problems (its slug,
    ownership and custom provider, those that have no problem); None when its identity
    is not known (no valid slug, or an ownership with a problem)."""
    if not isinstance(item, dict) or "slug" not in item or failed & {"slug", "ownership"}:
        return None
    kept = {name: item[name] for name in _CHECKED_ACROSS if name in item and name not in failed}
    try:
        return Integration.model_validate(kept)
    except ValidationError:  # pragma: no cover - each kept field is valid on its own
        return None
