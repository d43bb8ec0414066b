"""Provider rules the plan checks against the remote, where the manifest alone can't tell.

The tool's catalogue of built-in providers (``reconciler.manifest.builtins``)
is a copy of WorkOS's, which may have more. For a slug it does not know, the
remote decides: an integration listed with ``custom_provider: null`` is a
built-in one (trusted, with one warning), so a manifest that gives it a
``custom_provider`` would be refused by the API. And a custom provider the
remote does not have yet is created from the manifest alone: it needs the
endpoints its integrations use. Each refusal is a ``Problem`` at the entry
(``file:line:col``), raised before any change is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from reconciler.errors import Problem
from reconciler.manifest.builtins import BUILTIN_SLUGS
from reconciler.manifest.checks import endpoint_users, required_endpoints
from reconciler.models import Desired, DesiredIntegration, RemoteIntegration


def _managed(desired: Desired) -> list[DesiredIntegration]:
    """The entries a plan may act on: those ``settings.ignore`` leaves alone are not sent."""
    patterns = desired.settings.ignore
    return [
        item
        for item in desired.integrations
        if not any(fnmatchcase(item.spec.slug, pattern) for pattern in patterns)
    ]


def _remote_kinds(remote: Sequence[RemoteIntegration]) -> dict[str, bool]:
    """Each slug the remote lists, and whether it is a custom provider there."""
    return {item.slug: item.custom_provider is not None for item in remote}


def provider_problems(desired: Desired, remote: Sequence[RemoteIntegration]) -> list[Problem]:
    """What the API would refuse given the remote: a custom provider shadowing a built-in
    the tool does not know, a new custom provider without the endpoints it needs, config
    keys for a custom provider the manifest does not define."""
    kinds = _remote_kinds(remote)
    managed = _managed(desired)
    defined = _definitions(managed)
    problems = []
    for item in managed:
        slug = item.spec.slug
        custom_remotely = kinds.get(slug)
        if item.spec.custom_provider is not None and custom_remotely is False:
            problems.append(
                _problem(
                    item,
                    f"custom_provider given for {slug!r}, which the API lists as a built-in "
                    "provider (custom_provider: null); a custom provider needs a slug of its own",
                )
            )
        if custom_remotely and slug not in defined and item.spec.config:
            keys = ", ".join(sorted(item.spec.config))
            problems.append(
                _problem(
                    item,
                    f"config: {slug!r} is a custom provider (so the API lists it), and custom "
                    f"providers declare no config fields; the API refuses {keys}",
                )
            )
    by_slug: dict[str, list[RemoteIntegration]] = {}
    for listed in remote:
        by_slug.setdefault(listed.slug, []).append(listed)
    for slug, items in defined.items():
        problems.extend(_endpoint_problems(slug, items, by_slug.get(slug, [])))
    return problems


def _endpoint_problems(
    slug: str, items: list[DesiredIntegration], listed: list[RemoteIntegration]
) -> list[Problem]:
    """The definition a custom provider ends with (the remote one, if any, with the
    manifest's fields applied) must hold the endpoints of every integration it serves:
    the manifest's entries of the slug and the remote ones the manifest leaves alone
    (``listed``: the remote integrations of ``slug``)."""
    final = next((dict(i.custom_provider) for i in listed if i.custom_provider), {})
    for item in items:
        if item.spec.custom_provider is not None:
            given = item.spec.custom_provider
            final.update({name: getattr(given, name) for name in given.model_fields_set})
    identities = {item.identity for item in items}
    methods = {m for item in items for m in item.spec.auth_methods}
    methods.update(m for i in listed if i.identity not in identities for m in i.auth_methods)
    definer = next(item for item in items if item.spec.custom_provider is not None)
    state = "the remote definition lacks it" if listed else f"{slug!r} is a new custom provider"
    return [
        _problem(
            definer,
            f"custom_provider.{name}: required for {endpoint_users(name)} integrations, "
            f"and {state}",
        )
        for name in required_endpoints(methods)
        if final.get(name) is None
    ]


def catalogue_warnings(desired: Desired, remote: Sequence[RemoteIntegration]) -> list[str]:
    """One warning naming the slugs without ``custom_provider`` that the tool's catalogue
    does not know: each is trusted to the API, as the remote shows it (or not at all)."""
    kinds = _remote_kinds(remote)
    managed = _managed(desired)
    defined = _definitions(managed)
    unknown = sorted(
        {
            item.spec.slug
            for item in managed
            if item.spec.slug not in BUILTIN_SLUGS
            and item.spec.slug not in defined
            and not kinds.get(item.spec.slug)
        }
    )
    if not unknown:
        return []
    described = ", ".join(
        f"{slug} (listed as built-in)"
        if slug in kinds
        else f"{slug} (not listed: its create fails with 404 unless WorkOS knows it)"
        for slug in unknown
    )
    return [
        "built-in providers the tool's catalogue does not know, trusted to the API "
        f"(their config keys are not checked): {described}"
    ]


def _definitions(items: Sequence[DesiredIntegration]) -> dict[str, list[DesiredIntegration]]:
    """The manifest's custom providers: each slug given a ``custom_provider``, with every
    entry of that slug (both ownerships share the definition)."""
    custom = {item.spec.slug for item in items if item.spec.custom_provider is not None}
    found: dict[str, list[DesiredIntegration]] = {}
    for item in items:
        if item.spec.slug in custom:
            found.setdefault(item.spec.slug, []).append(item)
    return found


def _problem(item: DesiredIntegration, message: str) -> Problem:
    return Problem(item.source.file, item.source.line, item.source.column, message)
