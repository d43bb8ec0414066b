"""Adoption: the entries a change starts managing without changing them.

A pull request that adds an entry for an integration that already exists, and
already matches it, plans no change: without more, a reviewer sees only a count
of unmanaged integrations going down. ``plan --baseline PATH`` names the base
branch's manifests; an unchanged entry that the baseline does not list is shown
as adopted ("will be managed; no change"). Adoption is never a change: it
leaves ``has_changes`` (and ``--detailed-exitcode``) alone.

The baseline is read for its identities only (``slug``, ``ownership``), leniently:
it is the base branch's copy, valid when it was merged, and nothing in it is
resolved, sent or shown but those two names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.errors import Problem
from reconciler.identity import OWNERSHIPS, Identity
from reconciler.manifest.files import MAX_MANIFEST_BYTES, Unreadable, manifest_files, read_bounded
from reconciler.plan import Plan
from reconciler.yamlsource import parse

MISSING_BASELINE = (
    "baseline {path} does not exist (no manifests on the base branch?): every unchanged "
    "entry is shown as adopted"
)


@dataclass(frozen=True)
class Baseline:
    """The identities the base branch's manifests list, and what reading them noticed."""

    identities: frozenset[Identity]
    warnings: tuple[str, ...] = ()


def read_baseline(paths: Sequence[str]) -> Baseline:
    """The (slug, ownership) pairs the baseline's manifests list, and warnings.

    A path that does not exist is an empty baseline (the base branch had no
    manifests there), with a warning; a file that cannot be read or parsed adds
    nothing and a warning, since the baseline only decides what is called adopted.
    """
    identities: set[Identity] = set()
    warnings: list[str] = []
    present = []
    for path in paths:
        if os.path.lexists(path):
            present.append(path)
        else:
            warnings.append(MISSING_BASELINE.format(path=path))
    problems: list[Problem] = []
    for display, found in manifest_files(present, problems):
        try:
            document = parse(read_bounded(found, MAX_MANIFEST_BYTES), display)
        except Unreadable as error:
            warnings.append(f"baseline {display}: {error}; left out of the baseline")
            continue
        if document.problems or document.root is None:
            warnings.append(f"baseline {display}: not valid YAML; left out of the baseline")
            continue
        identities.update(_identities(document.root.value))
    warnings.extend(f"baseline {problem}" for problem in problems)
    return Baseline(frozenset(identities), tuple(warnings))


def _identities(root: Any) -> list[Identity]:
    entries = root.get("integrations") if isinstance(root, dict) else None
    found: list[Identity] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
            continue
        ownership = entry.get("ownership", "user")
        if ownership in OWNERSHIPS:
            found.append(Identity(entry["slug"], ownership))
    return found


def adopt(plan: Plan, baseline: Baseline) -> Plan:
    """``plan`` with its unchanged entries absent from ``baseline`` moved to ``adopted``."""
    known = baseline.identities
    return replace(
        plan,
        unchanged=tuple(identity for identity in plan.unchanged if identity in known),
        adopted=tuple(identity for identity in plan.unchanged if identity not in known),
        warnings=(*plan.warnings, *baseline.warnings),
    )
