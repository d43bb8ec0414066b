"""Typos in slugs, caught before apply: ``slug: githb`` passes the schema, and the API
answers 404 only when the create is sent.

A slug is known when it is a built-in provider (``manifest.builtins``), defined by
an entry of the manifest (its ``custom_provider``), or on the remote (a custom
provider defined earlier). Any other slug gets one warning, with a "did you
mean" suggestion: a warning, not an error, since WorkOS's catalogue grows
faster than ours. When the API does answer 404 at apply, the failed action's
message points at the entry's ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from difflib import get_close_matches
from fnmatch import fnmatchcase

from reconciler.manifest.builtins import BUILTIN_SLUGS
from reconciler.models import Desired, Source
from reconciler.plan import Identity
from reconciler.results import ActionResult

MAX_SHOWN = 10
"""Unknown slugs warned of one by one; the rest are counted."""
NOT_FOUND = "API error 404"
"""How a 404's message starts (``errors.ApiError``)."""


def unknown_slug_warnings(
    desired: Desired, remote_slugs: Iterable[str] | None = None, *, shown: int = MAX_SHOWN
) -> list[str]:
    """A warning per slug that is neither built in, nor defined in the manifest, nor
    (when ``remote_slugs`` is given: ``plan``) on the remote, at its first entry; the
    first ``shown`` of them, then one counting the rest."""
    defined = {i.spec.slug for i in desired.integrations if i.spec.custom_provider is not None}
    known = BUILTIN_SLUGS | defined | set(remote_slugs or ())
    where = "not a built-in provider, not defined by a custom_provider in the manifest"
    where += " and not on the remote" if remote_slugs is not None else ""
    warnings: list[str] = []
    unknown: set[str] = set()
    for item in desired.integrations:
        slug = item.spec.slug
        if slug in known or slug in unknown or _ignored(slug, desired.settings.ignore):
            continue
        unknown.add(slug)
        if len(unknown) > shown:
            continue
        close = get_close_matches(slug, sorted(known), n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "a typo? (a new custom provider needs custom_provider in one of its entries)"
        )
        warnings.append(f"{item.source}: slug {slug!r} is {where}: {hint}")
    if len(unknown) > shown:
        warnings.append(f"{len(unknown) - shown} more slugs are {where}")
    return warnings


def _ignored(slug: str, patterns: Iterable[str]) -> bool:
    """``settings.ignore`` leaves the entry alone: it is never sent."""
    return any(fnmatchcase(slug, pattern) for pattern in patterns)


def entry_sources(desired: Desired) -> dict[Identity, Source]:
    """Where each entry of the manifest was written, by identity."""
    return {item.identity: item.source for item in desired.integrations}


def located(result: ActionResult, sources: Mapping[Identity, Source]) -> ActionResult:
    """``result``, its message prefixed with the entry's ``file:line:col`` when the API
    answered 404 to an action the manifest asked for (a mistyped slug, most often)."""
    source = sources.get(result.action.identity)
    if source is None or result.error is None or not result.error.startswith(NOT_FOUND):
        return result
    return replace(result, error=f"{source}: {result.error}")
