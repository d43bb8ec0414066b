"""One manifest file: read, parsed, interpolated and validated; what survives its problems.

A file with problems still gives its valid parts (its settings, its valid
integrations) so that the checks across files can run on them too: a run
reports every problem at once, not one file's worth at a time.
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
from reconciler.manifest.yamlsource import Document, parse
from reconciler.models import Integration, Manifest, Settings, Source

MAX_PROBLEMS_PER_FILE = 200
ValidParts = tuple[Settings | None, list[tuple[int, Integration]]]


@dataclass(frozen=True)
class IntegrationEntry:
    """A valid integration of one file, with where it was written."""

    spec: Integration
    doc: Document
    index: int

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
        data = read_bounded(path, MAX_MANIFEST_BYTES)
    except Unreadable as error:
        problems.append(Problem(display, 0, 0, str(error)))
        return ManifestFile(Document(display, None))
    doc = parse(data, display)
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
    file.entries = [IntegrationEntry(spec, doc, index) for index, spec in integrations]
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
    return manifest.settings, list(enumerate(manifest.integrations))


def _relevant(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """A wrong version makes every other error of the file moot."""
    wrong_version = [d for d in details if d["loc"] == ("version",) and d["type"] != "missing"]
    return wrong_version or details


def _valid_parts(data: dict[str, Any], details: list[ErrorDetails]) -> ValidParts:
    """The settings and integrations of a file that have no error of their own."""
    locs = [detail["loc"] for detail in details]
    settings = None
    if not any(loc[:1] == ("settings",) for loc in locs) and isinstance(data.get("settings"), dict):
        settings = Settings.model_validate(data["settings"])
    items = data.get("integrations")
    if not isinstance(items, list) or ("integrations",) in locs:
        return settings, []
    failed = {loc[1] for loc in locs if loc[:1] == ("integrations",) and len(loc) > 1}
    valid = [(i, item) for i, item in enumerate(items) if i not in failed]
    return settings, [(i, Integration.model_validate(item)) for i, item in valid]
