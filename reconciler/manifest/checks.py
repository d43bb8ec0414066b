"""Checks across the entries of a run, once every file is validated on its own.

What no single entry can show: one settings block in all the files, each
(slug, ownership) declared once, custom providers that neither shadow a
built-in nor disagree with each other, URLs the policy allows, config keys
the provider declares, and the endpoints an OAuth custom provider needs. (No
secret can reach a plain field: secret references resolve in
``credentials.client_secret`` only.) And one warning: the entries that
``settings.ignore`` hides (``ignored_warnings``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from reconciler.errors import Problem
from reconciler.manifest.builtins import BUILTIN_CONFIG_FIELDS, BUILTIN_SLUGS
from reconciler.manifest.manifestfile import IntegrationEntry, ManifestFile
from reconciler.models import CustomProvider, Desired, Settings
from reconciler.policy import Policy

_PROVIDER_URLS = ("authorization_url", "token_url", "refresh_token_url")


def one_settings(files: list[ManifestFile], problems: list[Problem]) -> Settings:
    """The one settings block of the run (defaults if none)."""
    first: ManifestFile | None = None
    for file in files:
        if not file.settings_given:
            continue
        if first is None:
            first = file
            continue
        mark, at = (
            file.doc.locate(("settings",), key=True),
            first.doc.locate(("settings",), key=True),
        )
        message = (
            f"settings may appear in one file only; already given at {first.doc.file}:{at.line}"
        )
        problems.append(Problem(file.doc.file, mark.line, mark.column, message))
    return first.settings if first is not None and first.settings is not None else Settings()


def ignored_warnings(desired: Desired) -> list[str]:
    """A warning per entry that ``settings.ignore`` hides: plan leaves it alone, in the
    planner's words (``validate`` shows them without planning)."""
    patterns = desired.settings.ignore
    return [
        f"{item.source}: {item.identity} matches settings.ignore and is left alone"
        for item in desired.integrations
        if any(fnmatchcase(item.spec.slug, pattern) for pattern in patterns)
    ]


def identity_problems(entries: list[IntegrationEntry]) -> list[Problem]:
    """Each (slug, ownership) may be declared once in the whole run."""
    problems = []
    first: dict[tuple[str, str], IntegrationEntry] = {}
    for entry in entries:
        earlier = first.setdefault(entry.spec.identity, entry)
        if earlier is not entry:
            slug, ownership = entry.spec.identity
            message = (
                f"duplicate integration {slug!r} (ownership {ownership}); "
                f"first defined at {earlier.source}"
            )
            problems.append(entry.problem(message))
    return problems


def custom_provider_problems(entries: list[IntegrationEntry]) -> list[Problem]:
    """No built-in slug redefined; one shared definition per custom provider."""
    problems = []
    definitions: dict[str, IntegrationEntry] = {}
    for entry in entries:
        provider, slug = entry.spec.custom_provider, entry.spec.slug
        if provider is None:
            continue
        if slug in BUILTIN_SLUGS:
            message = (
                f"custom_provider given for {slug!r}, a built-in provider; "
                "a custom provider needs a slug of its own"
            )
            problems.append(entry.problem(message, "custom_provider", key=True))
            continue
        earlier = definitions.setdefault(slug, entry)
        if earlier is entry or earlier.spec.ownership == entry.spec.ownership:
            continue
        assert earlier.spec.custom_provider is not None
        differing = _differing(earlier.spec.custom_provider, provider)
        if differing:
            message = (
                f"custom_provider of {slug!r} differs in {', '.join(differing)} from the one at "
                f"{earlier.place('custom_provider')}; the user and organization integrations "
                "of a custom provider share one definition"
            )
            problems.append(entry.problem(message, "custom_provider", key=True))
    return problems


def _differing(first: CustomProvider, second: CustomProvider) -> list[str]:
    """The fields both definitions give, with different values."""
    both = first.model_fields_set & second.model_fields_set
    return sorted(name for name in both if getattr(first, name) != getattr(second, name))


def config_problems(entries: list[IntegrationEntry]) -> list[Problem]:
    """Only the config keys the provider declares: those of a built-in the tool knows
    (``builtins``), none for a custom provider ("custom providers cannot declare" config
    fields). A slug the tool does not know is left to the API (a warning at plan time)."""
    custom = {entry.spec.slug for entry in entries if entry.spec.custom_provider is not None}
    problems = []
    for entry in entries:
        if entry.partial or not entry.spec.config:
            continue
        slug = entry.spec.slug
        if slug in custom:
            detail = "a custom provider declares no config fields"
            allowed: tuple[str, ...] = ()
        elif slug in BUILTIN_CONFIG_FIELDS:
            allowed = BUILTIN_CONFIG_FIELDS[slug]
            detail = f"{slug} declares " + (", ".join(allowed) if allowed else "no config fields")
        else:
            continue
        for key in sorted(set(entry.spec.config) - set(allowed)):
            message = f"config.{key}: unknown config key ({detail}); the API refuses it"
            problems.append(entry.problem(message, "config", key, key=True))
    return problems


def endpoint_problems(entries: list[IntegrationEntry]) -> list[Problem]:
    """Custom provider endpoints are static URLs (no ``${config...}``). An OAuth custom
    provider needs ``authorization_url`` and ``token_url``, a client-credentials one
    ``token_url``: an explicit ``null`` for one of them, where an integration of that
    provider uses it, is refused. (A URL left out is unmanaged: the
    plan checks it against the remote definition, ``reconciler.provider_checks``.)"""
    methods: dict[str, set[str]] = {}
    for entry in entries:
        if not entry.partial:
            methods.setdefault(entry.spec.slug, set()).update(entry.spec.auth_methods)
    problems = []
    for entry in entries:
        provider = entry.spec.custom_provider
        if provider is None:
            continue
        for name in _PROVIDER_URLS:
            url = getattr(provider, name)
            if url is not None and "${" in url:
                message = (
                    f"custom_provider.{name}: must be a static URL; a ${{config...}} "
                    "placeholder needs config fields, which custom providers cannot declare"
                )
                problems.append(entry.problem(message, "custom_provider", name))
        for name in required_endpoints(methods.get(entry.spec.slug, set())):
            if name in provider.model_fields_set and getattr(provider, name) is None:
                message = (
                    f"custom_provider.{name}: required for {endpoint_users(name)} "
                    "integrations; the API refuses null"
                )
                problems.append(entry.problem(message, "custom_provider", name))
    return problems


def required_endpoints(auth_methods: Iterable[str]) -> tuple[str, ...]:
    """The custom-provider URLs integrations with these auth methods need."""
    methods = set(auth_methods)
    if "oauth" in methods:
        return ("authorization_url", "token_url")
    if "client_credentials" in methods:
        return ("token_url",)
    return ()


def endpoint_users(name: str) -> str:
    return "OAuth" if name == "authorization_url" else "OAuth and client_credentials"


def url_problems(entries: list[IntegrationEntry], policy: Policy) -> list[Problem]:
    """Custom providers may point only where the policy allows (a token URL
    receives the client secret)."""
    problems = []
    for entry in entries:
        provider = entry.spec.custom_provider
        if provider is None:
            continue
        for name in _PROVIDER_URLS:
            url = getattr(provider, name)
            refusal = None if url is None else policy.url_refusal(url)
            if refusal is not None:
                message = f"custom_provider.{name}: this URL {refusal}"
                problems.append(entry.problem(message, "custom_provider", name))
    return problems
