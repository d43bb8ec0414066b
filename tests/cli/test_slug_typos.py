"""Typos in slugs: one "did you mean" warning in validate and plan (a slug is known if built
in, defined by an entry, or on the remote), and an apply-time 404 at the entry's place."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.emulator.app import create_app
from tests.support import invoke, write_manifest

TYPO = """\
version: 1
integrations:
  - slug: githb
    credentials: {type: organization}
  - slug: githb
    ownership: organization
    credentials: {type: organization}
  - slug: acme-crm
    custom_provider:
      name: Acme CRM
      authorization_url: https://crm.acme.example/oauth/authorize
      token_url: https://crm.acme.example/oauth/token
    credentials: {type: organization}
  - slug: acme-crm
    ownership: organization
    credentials: {type: organization}
  - slug: slack
    credentials: {type: organization}
"""


def test_validate_warns_once_per_unknown_slug(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, TYPO)
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {manifest}:3:5: slug 'githb' is not a built-in provider, not defined by a "
        "custom_provider in the manifest: did you mean 'github'?\n"
    )
    assert "Valid: 5 integrations" in result.stdout


def test_plan_knows_the_remote_slugs(tmp_path: Path) -> None:
    """A custom provider defined on the remote earlier is known; a typo is warned of."""
    text = TYPO.replace("slug: acme-crm\n    custom_provider:", "slug: other\n    custom_provider:")
    manifest = write_manifest(tmp_path, text)
    seed = [
        {
            "provider": "acme-crm",
            "ownership": "user",
            "custom_provider": {
                "name": "Acme CRM",
                "authorization_url": "https://crm.acme.example/oauth/authorize",
                "token_url": "https://crm.acme.example/oauth/token",
            },
            "credentials": {"type": "organization"},
        }
    ]
    offline = invoke(None, "validate", "-f", str(manifest))
    assert "slug 'acme-crm' is not a built-in provider" in offline.stderr, "offline: unknown"
    planned = invoke(create_app(seed=seed), "plan", "-f", str(manifest), "--format", "json")
    assert planned.exit_code == 0, planned.output
    warnings = json.loads(planned.stdout)["warnings"]
    assert [w for w in warnings if "slug" in w] == [
        f"{manifest}:3:5: slug 'githb' is not a built-in provider, not defined by a "
        "custom_provider in the manifest and not on the remote: did you mean 'github'?"
    ]


def test_an_apply_time_404_names_the_entry(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "version: 1\nintegrations:\n  - slug: githb\n    credentials: {type: organization}\n",
    )
    result = invoke(create_app(), "apply", "-f", str(manifest), "--yes")
    assert result.exit_code == 1
    assert "FAILED create githb (user) in " in result.output
    assert f": {manifest}:3:5: API error 404 (not_found): No built-in or custom provider" in (
        result.output
    )
