"""The benchmark workloads: a remote state (emulator seed) and a manifest that matches it.

Integrations come in pairs, one custom provider per pair: ``svc-00000`` user-owned
(credentials of type custom, secret from ``${env:RECONCILER_BENCH_CLIENT_SECRET}``) and
``svc-00000`` organization-owned (type organization), sharing one definition, as
real custom providers do. A chosen share of them differ in their description only,
so the plan has that many updates and everything else unchanged.

By default half are organization-owned, alternating; ``organization_share`` picks
another split (0: all user-owned; 0.2: every fifth), spread evenly in creation order,
the k-th organization-owned integration sharing the k-th user-owned one's slug.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
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


HALF = Fraction(1, 2)


def as_share(value: float) -> Fraction:
    """A share organization-owned (0.2) as the exact fraction ``identities`` spreads."""
    share = Fraction(value).limit_denominator(1000)
    if not 0 <= share <= 1:
        raise ValueError("the share of organization-owned integrations must be in [0, 1]")
    return share


def identities(count: int, share: Fraction = HALF) -> Iterator[tuple[int, str, str]]:
    """``(index, slug, ownership)`` in creation order, ``share`` organization-owned."""
    owned = {"user": 0, "organization": 0}
    for index in range(count):
        # Organization-owned where the running count of them, index × share, steps up.
        stepped = math.floor((index + 1) * share) > math.floor(index * share)
        ownership = "organization" if stepped else "user"
        yield index, f"svc-{owned[ownership]:05d}", ownership
        owned[ownership] += 1


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


def seed_bodies(count: int, *, generation: int = 0, share: Fraction = HALF) -> list[dict[str, Any]]:
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
        for index, slug, ownership in identities(count, share)
    ]


def manifest_text(
    count: int, *, changed_every: int | None, generation: int = 0, share: Fraction = HALF
) -> str:
    """The manifest in block YAML, as people write it; every ``changed_every``-th differs."""
    lines = ["version: 1", "integrations:"]
    for index, slug, ownership in identities(count, share):
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


def write_plan_workload(
    directory: Path, count: int, *, changed_share: float, organization_share: float = 0.5
) -> Workload:
    """Seed and manifest for a plan of ``count`` integrations, ``changed_share`` of them
    changed, ``organization_share`` of them organization-owned."""
    directory.mkdir(parents=True, exist_ok=True)
    changed_every = round(1 / changed_share)
    share = as_share(organization_share)
    seed = directory / f"seed-{count}.json"
    seed.write_text(json.dumps(seed_bodies(count, share=share)), encoding="utf-8")
    manifest = directory / f"plan-{count}.yaml"
    manifest.write_text(
        manifest_text(count, changed_every=changed_every, share=share), encoding="utf-8"
    )
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
