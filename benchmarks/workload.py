"""The benchmark workloads: a remote state (emulator seed) and a manifest that matches it.

Integrations come in pairs, one custom provider per pair: ``svc-00000`` user-owned
(credentials of type custom, secret from ``${env:RECONCILER_BENCH_CLIENT_SECRET}``) and
``svc-00000`` organization-owned (type organization), sharing one definition, as
real custom providers do. A chosen share of them differ in their description only,
so the plan has that many updates and everything else unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET_ENV = "RECONCILER_BENCH_CLIENT_SECRET"
SECRET = "bench-client-secret-7f3a"


@dataclass(frozen=True)
class Workload:
    """Files of one benchmark case, and what a correct plan of them finds."""

    seed: Path
    manifest: Path
    integrations: int
    changed: int


def _identities(count: int) -> Iterator[tuple[int, str, str]]:
    for index in range(count):
        yield index, f"svc-{index // 2:05d}", "user" if index % 2 == 0 else "organization"


def _definition(slug: str) -> dict[str, str]:
    return {
        "name": f"Service {slug}",
        "authorization_url": f"https://{slug}.example/oauth/authorize",
        "token_url": f"https://{slug}.example/oauth/token",
    }


def _credentials(index: int, ownership: str, *, secret: str) -> dict[str, str]:
    if ownership == "organization":
        return {"type": "organization"}
    return {"type": "custom", "client_id": f"client-{index:05d}", "client_secret": secret}


def _remote_description(index: int, generation: int) -> str:
    return f"Integration {index} (generation {generation})"


def seed_bodies(count: int, *, generation: int = 0) -> list[dict[str, Any]]:
    """Create bodies (plus ownership) for the emulator's ``--seed``."""
    return [
        {
            "provider": slug,
            "ownership": ownership,
            "description": _remote_description(index, generation),
            "enabled": True,
            "scopes": ["read", "write"],
            "credentials": _credentials(index, ownership, secret=SECRET),
            "custom_provider": _definition(slug),
        }
        for index, slug, ownership in _identities(count)
    ]


def manifest_text(count: int, *, changed_every: int | None, generation: int = 0) -> str:
    """The manifest in block YAML, as people write it; every ``changed_every``-th differs."""
    lines = ["version: 1", "integrations:"]
    for index, slug, ownership in _identities(count):
        changed = changed_every is not None and index % changed_every == changed_every - 1
        description = (
            f"Integration {index} (changed)" if changed else _remote_description(index, generation)
        )
        definition = _definition(slug)
        lines += [
            f"  - slug: {slug}",
            f"    ownership: {ownership}",
            f'    description: "{description}"',
            "    enabled: true",
            "    scopes: [read, write]",
            "    credentials:",
        ]
        credentials = _credentials(index, ownership, secret=f"${{env:{SECRET_ENV}}}")
        for key, value in credentials.items():
            lines.append(f'      {key}: "{value}"')
        lines.append("    custom_provider:")
        for key, value in definition.items():
            lines.append(f'      {key}: "{value}"')
    return "\n".join(lines) + "\n"


def write_plan_workload(directory: Path, count: int, *, changed_share: float) -> Workload:
    """Seed and manifest for a plan of ``count`` integrations, ``changed_share`` of them changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed_every = round(1 / changed_share)
    seed = directory / f"seed-{count}.json"
    seed.write_text(json.dumps(seed_bodies(count)), encoding="utf-8")
    manifest = directory / f"plan-{count}.yaml"
    manifest.write_text(manifest_text(count, changed_every=changed_every), encoding="utf-8")
    return Workload(seed, manifest, count, count // changed_every)


def write_apply_manifest(directory: Path, count: int, generation: int) -> Path:
    """A manifest whose every description differs from generation ``generation - 1``."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / f"apply-{count}-gen{generation}.yaml"
    manifest.write_text(
        manifest_text(count, changed_every=None, generation=generation), encoding="utf-8"
    )
    return manifest


def write_apply_seed(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    seed = directory / f"apply-seed-{count}.json"
    seed.write_text(json.dumps(seed_bodies(count, generation=0)), encoding="utf-8")
    return seed
