"""Manifest files to the desired state: the run's steps in order, and its client secrets.

Every problem of a run, across all files, is collected and raised at once as a
``ManifestError``; each points at file:line:column. No message carries a
secret. The steps: find the files (``files``), read, parse, interpolate and
validate each (``manifestfile``), check across entries (``checks``; entries
with problems of their own take part through their valid identity), and
resolve each client secret once everything else is known to be valid.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping, Sequence

from reconciler.errors import ManifestError, Problem
from reconciler.manifest import checks
from reconciler.manifest.files import manifest_files
from reconciler.manifest.manifestfile import MAX_INTEGRATIONS, IntegrationEntry, load_file
from reconciler.manifest.references import Reference, Resolver
from reconciler.models import Desired, DesiredIntegration
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.secrets import Redactor, Secret


def load(
    paths: Sequence[str | os.PathLike[str]],
    *,
    policy: Policy = DEFAULT_POLICY,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
    redactor: Redactor | None = None,
) -> Desired:
    """Load, validate and merge manifest files and directories into a ``Desired``.

    ``policy`` (trusted) decides which references the (untrusted) manifests
    may use (``${env:}`` / ``${file:}`` client secrets, ``${var:}`` plain
    values) and where custom providers may point; every reference is checked
    from what is written before anything is looked up. ``environ`` (default
    ``os.environ``) gives the variables; ``redactor`` (if given) learns every
    client secret as it is read, as a net under foreign text.
    With ``resolve_secrets=False`` (``validate`` / ``plan --no-secrets``)
    client secrets are checked against the policy but not read
    (``Desired.secrets_resolved`` is False), while ``${var:}`` references
    still resolve (they are not secrets): one whose variable is unset and has
    no default keeps its reference text as a stand-in, which passes fields
    that accept any text (``client_id``, ``description``...); a field with a
    format of its own (``slug``, ``ownership``, URLs) reports the unset
    variable, since it cannot be checked without it. With
    ``resolve_secrets=True`` every unset variable without a default is a
    problem at the value that names it.
    """
    # The documents built here hold no reference cycles, yet a large manifest
    # makes the cyclic collector rescan them again and again (half the time
    # of a 10,000-integration load): pause it for the load.
    collecting = gc.isenabled()
    gc.disable()
    try:
        resolver = Resolver(
            policy, os.environ if environ is None else environ, redactor or Redactor()
        )
        return _load(paths, resolver, resolve_secrets)
    finally:
        if collecting:
            gc.enable()


def _load(
    paths: Sequence[str | os.PathLike[str]], resolver: Resolver, resolve_secrets: bool
) -> Desired:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    problems: list[Problem] = []
    if not paths:
        raise ManifestError([Problem(".", 0, 0, "no manifest file given")])
    files = [
        load_file(display, path, problems, resolver, strict=resolve_secrets)
        for display, path in manifest_files(paths, problems)
    ]
    entries = [entry for file in files for entry in file.entries]
    if len(entries) > MAX_INTEGRATIONS:
        message = f"{len(entries):,} integrations in all; at most {MAX_INTEGRATIONS:,} are read"
        raise ManifestError([*problems, Problem(files[0].doc.file, 0, 0, message)])
    settings = checks.one_settings(files, problems)
    problems.extend(checks.identity_problems(entries))
    problems.extend(checks.custom_provider_problems(entries))
    problems.extend(checks.config_problems(entries))
    problems.extend(checks.endpoint_problems(entries))
    problems.extend(checks.url_problems(entries, resolver.policy))
    integrations = []
    for entry in entries:
        if entry.partial:  # it has problems: only the checks across entries read it
            continue
        secret = _resolve_secret(entry, resolver, problems) if resolve_secrets else None
        integrations.append(DesiredIntegration(entry.spec, entry.source, secret))
    if problems:
        raise ManifestError(problems)
    return Desired(
        integrations=tuple(integrations),
        settings=settings,
        files=tuple(file.doc.file for file in files),
        secrets_resolved=resolve_secrets,
    )


def _resolve_secret(
    entry: IntegrationEntry, resolver: Resolver, problems: list[Problem]
) -> Secret | None:
    """The client secret an entry's reference points to; a problem if unusable.

    A reference the policy refuses was reported while interpolating: it is
    never looked up.
    """
    credentials = entry.spec.credentials
    if credentials is None or credentials.client_secret is None:
        return None
    reference = Reference.parse(credentials.client_secret)
    assert reference is not None, "validated by the Credentials model"
    if resolver.secret_refusal(reference, entry.doc.file) is not None:
        return None  # reported while interpolating: never looked up
    if reference.kind == "env":
        secret, failure = resolver.secret_env(reference.name)
    else:
        secret, failure = resolver.secret_file(entry.doc.file, reference.body)
    if failure is not None:
        message = f"client_secret: {reference.written}: {failure}"
        problems.append(entry.problem(message, "credentials", "client_secret"))
    return secret
