"""What the API refuses after the plan would have destroyed something: refused in the plan.

A replace deletes first. Where its re-create is certain to be refused, the
plan refuses the entry instead (``file:line:col``, exit 1, no request):

- ``custom_provider`` on a slug the API lists as a built-in provider's
  (``custom_provider: null``), whether or not the tool's catalogue knows it:
  the API refuses a custom provider that shadows a built-in slug;
- credentials on an integration whose auth methods lack ``oauth``, the
  remote's when the manifest leaves them out (the manifest's own are checked
  when it is loaded).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.errors import Problem
from reconciler.identity import OWNERSHIPS, Identity
from reconciler.models import DesiredIntegration, RemoteIntegration


def _problem(entry: DesiredIntegration, message: str) -> Problem:
    return Problem(entry.source.file, entry.source.line, entry.source.column, message)


def builtin_problems(
    entry: DesiredIntegration, existing: Mapping[Identity, RemoteIntegration]
) -> list[Problem]:
    """``custom_provider`` on a slug the API lists as a built-in provider's."""
    slug = entry.spec.slug
    if entry.spec.custom_provider is None:
        return []
    builtin = [
        existing[Identity(slug, o)]
        for o in OWNERSHIPS
        if (slug, o) in existing and existing[Identity(slug, o)].custom_provider is None
    ]
    if not builtin:
        return []
    slug_owner = str(builtin[0].identity)
    return [
        _problem(
            entry,
            f"{slug} is a built-in provider (the API lists {slug_owner} "
            "with custom_provider: null), and the API refuses a custom provider with a "
            "built-in's slug: remove custom_provider from this entry, or give the custom "
            "provider a slug of its own",
        )
    ]


def oauth_problems(entry: DesiredIntegration, current: RemoteIntegration) -> list[Problem]:
    """Credentials on an integration whose remote auth methods (the manifest leaving them
    out) lack oauth: the API refuses them."""
    if entry.spec.credentials is None or entry.managed("auth_methods"):
        return []
    if "oauth" in current.auth_methods:
        return []
    methods = ", ".join(current.auth_methods)
    name = str(entry.identity)
    return [
        _problem(
            entry,
            f"{name} has auth_methods [{methods}] (as the API lists it) and "
            "credentials are for oauth integrations: the API refuses them. Remove credentials "
            "from this entry, or add oauth to its auth_methods (which replaces the integration)",
        )
    ]
