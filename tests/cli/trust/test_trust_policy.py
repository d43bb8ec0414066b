"""The trust boundary, tried as a pull request's author would: the policy. The manifest
cannot widen what the policy allows (URLs, the delete threshold, protection, prune),
the policy is never discovered beside the manifests, and a saved plan applies only
with the key and policy it was made with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support.trust import (
    CI_CANARY,
    GITHUB,
    KEY_CANARY,
    SECRET_CANARY,
    SEED,
    _by_method,
    _canaries_absent,
    _cli,
    _manifest,
    _requests,
)

# --- custom providers ----------------------------------------------------------------------


def test_custom_provider_urls_go_only_where_the_policy_allows(app: FastAPI) -> None:
    Path("policy.yaml").write_text(
        "version: 1\ncustom_provider_urls: ['https://*.acme.example/oauth/*']\n"
    )
    manifest = (
        "  - slug: acme-crm\n    custom_provider:\n      name: Acme\n"
        "      authorization_url: https://crm.acme.example/oauth/authorize\n"
        "      token_url: {token}\n    credentials:\n      type: organization\n"
    )
    for token in (
        "https://attacker.example/oauth/token",
        "https://crm.acme.example.attacker.example/oauth/token",
        "https://crm.acme.example@attacker.example/oauth/token",
        "https://a.b.acme.example/oauth/token",
        "https://crm.acme.example:8443/oauth/token",
        "https://crm.acme.example/other/token",
    ):
        _manifest(manifest.format(token=token))
        result = _cli(app, "plan", "--policy", "policy.yaml")
        assert result.exit_code == 1, (token, result.output)
        assert (
            "integrations.yaml:7:18: custom_provider.token_url: this URL is not allowed by "
            "policy policy.yaml (allowed: https://*.acme.example/oauth/*)" in result.stderr
        ), token
    _manifest(manifest.format(token="https://crm.acme.example/oauth/token"))
    assert _cli(app, "plan", "--policy", "policy.yaml").exit_code == 0
    assert _requests(app) == 1  # only the plan that was allowed listed


# --- rails the manifest can only tighten ---------------------------------------------------


def _seeded(count: int) -> FastAPI:
    seed = [
        {
            "provider": f"crm-{index:02d}",
            "ownership": "user",
            "custom_provider": {
                "name": f"CRM {index}",
                "authorization_url": "https://crm.example/oauth/authorize",
                "token_url": "https://crm.example/oauth/token",
            },
            "credentials": {"type": "organization"},
        }
        for index in range(count)
    ]
    return create_app(api_key=KEY_CANARY, seed=[*seed, *SEED])


PRUNE_ALL = "version: 1\nsettings:\n  prune: true\n  max_delete_fraction: 1.0\nintegrations: []\n"


def test_a_manifest_cannot_raise_the_delete_threshold() -> None:
    app = _seeded(12)
    Path("integrations.yaml").write_text(PRUNE_ALL)
    result = _cli(app, "apply", "--yes")
    assert result.exit_code == 3, result.output
    assert (
        "settings.max_delete_fraction 1 is above the ceiling 0.3 of the default policy; "
        "0.3 is used" in result.output
    )
    assert "refusing a plan that deletes or replaces 13 of 13" in result.output
    assert _by_method(app).get("DELETE", 0) == 0
    forced = _cli(app, "apply", "--yes", "--force")  # --force lifts the fraction: by design
    assert forced.exit_code == 0, forced.output


def test_policy_protection_holds_whatever_the_manifest_says() -> None:
    app = _seeded(3)
    Path("policy.yaml").write_text(
        "version: 1\nsafety:\n  protect: ['crm-0*/user', 'slack']\n  max_delete_fraction: 1.0\n"
    )
    Path("integrations.yaml").write_text(PRUNE_ALL)
    result = _cli(app, "apply", "--yes", "--force", "--policy", "policy.yaml")
    assert result.exit_code == 3, result.output
    assert "refusing to delete or replace protected integrations: crm-00 (user) (delete)" in (
        result.output
    )
    assert "slack (user) (delete)" in result.output
    assert _by_method(app).get("DELETE", 0) == 0


def test_prune_is_refused_where_the_policy_forbids_it() -> None:
    app = _seeded(1)
    Path("policy.yaml").write_text("version: 1\nsafety:\n  allow_prune: false\n")
    Path("integrations.yaml").write_text("version: 1\nsettings:\n  prune: true\nintegrations: []\n")
    result = _cli(app, "plan", "--force", "--policy", "policy.yaml")
    assert result.exit_code == 3, result.output
    assert "refusing settings.prune: true: policy policy.yaml does not allow prune" in (
        result.output
    )
    allowed = _cli(app, "plan", "--policy", "policy.yaml", RECONCILER_POLICY="")
    assert allowed.exit_code == 3  # the same policy through --policy: still refused
    by_env = _cli(app, "plan", RECONCILER_POLICY="policy.yaml")
    assert by_env.exit_code == 3
    assert "Policy:    policy policy.yaml" in by_env.stdout


def test_a_policy_is_never_discovered_beside_the_manifests(app: FastAPI) -> None:
    """A pull request that adds its own policy next to its manifest changes nothing."""
    everything = "version: 1\nreferences:\n  env: ['*']\n  vars: ['*']\n  files: ['*']\n"
    Path("reconciler-policy.yaml").write_text(everything)
    Path("policy.yaml").write_text(everything)
    Path("token.txt").write_text(CI_CANARY)
    _manifest(
        "  - slug: github\n    description: ${var:AWS_SECRET_ACCESS_KEY}\n"
        "    credentials:\n      type: custom\n      client_id: Iv1.abc\n"
        "      client_secret: ${env:AWS_SECRET_ACCESS_KEY}\n"
        "  - slug: slack\n    credentials:\n      type: custom\n      client_id: Iv1.abc\n"
        "      client_secret: ${file:token.txt}\n"
    )
    result = _cli(app, "plan")
    assert result.exit_code == 1
    assert result.stderr.count("not allowed by the default policy") == 3, result.stderr
    _canaries_absent(result.stdout, result.stderr)
    assert _requests(app) == 0


def test_a_broken_policy_file_is_a_clear_error(app: FastAPI) -> None:
    Path("policy.yaml").write_text(
        "version: 1\nreferences:\n  env: ['AWS_*', 'bad name']\nsafety:\n  protekt: []\n"
    )
    _manifest(GITHUB)
    result = _cli(app, "plan", "--policy", "policy.yaml")
    assert result.exit_code == 1
    assert "policy.yaml:3:8: references.env: 'bad name' is not a variable-name glob" in (
        result.stderr
    )
    assert "policy.yaml:5:3: unknown key 'protekt' in the policy file" in result.stderr
    assert "Traceback" not in result.output
    assert _requests(app) == 0


# --- saved plans ---------------------------------------------------------------------------


def test_a_saved_plan_applies_only_with_the_key_it_was_made_with() -> None:
    """Every WorkOS environment shares one URL: a staging plan must not apply to production."""
    staging_key, production_key = "sk_test_stagingKey00001", "sk_live_productionKey0002"
    staging = create_app(api_key=staging_key, seed=SEED)
    production = create_app(api_key=production_key, seed=SEED)
    _manifest(GITHUB)
    made = _cli(staging, "plan", "--out", "plan.json", WORKOS_API_KEY=staging_key)
    assert made.exit_code == 0, made.output
    result = _cli(production, "apply", "--plan", "plan.json", WORKOS_API_KEY=production_key)
    assert result.exit_code == 3, result.output
    assert "stale plan: it was made with another API key" in result.stderr
    assert _by_method(production, production_key).get("POST", 0) == 0
    text = Path("plan.json").read_text()
    for key in (staging_key, production_key):
        assert key.removeprefix("sk_test_").removeprefix("sk_live_") not in text


def test_a_saved_plan_applies_only_under_the_policy_it_was_made_with(app: FastAPI) -> None:
    Path("policy.yaml").write_text("version: 1\nsafety:\n  max_delete_fraction: 0.5\n")
    _manifest(GITHUB)
    assert _cli(app, "plan", "--out", "plan.json").exit_code == 0
    other = _cli(app, "apply", "--plan", "plan.json", "--policy", "policy.yaml")
    assert other.exit_code == 3
    assert "stale plan: it was made under the default policy, not policy policy.yaml" in (
        other.stderr
    )
    assert _cli(app, "plan", "--out", "plan.json", "--policy", "policy.yaml").exit_code == 0
    Path("policy.yaml").write_text("version: 1\nsafety:\n  max_delete_fraction: 0.9\n")
    changed = _cli(app, "apply", "--plan", "plan.json", "--policy", "policy.yaml")
    assert changed.exit_code == 3
    assert "stale plan: it was made under policy policy.yaml has changed" in changed.stderr
    assert _by_method(app).get("POST", 0) == 0


def test_saved_plan_digests_cannot_be_tested_offline(app: FastAPI) -> None:
    """With the file alone (salt included), a guess of the secret can't be checked:
    the digests are keyed with the API key, which the file does not hold."""
    _manifest(GITHUB)
    assert _cli(app, "plan", "--out", "plan.json").exit_code == 0
    data = json.loads(Path("plan.json").read_text())
    salt = bytes.fromhex(data["salt"])
    recorded = {d["secret"] for d in data["digests"]} - {None}
    assert len(recorded) == 1
    guess = SECRET_CANARY.encode()
    attempts = {
        hmac.new(salt, guess, hashlib.sha256).hexdigest(),
        hashlib.sha256(salt + guess).hexdigest(),
        hashlib.sha256(guess).hexdigest(),
        hmac.new(guess, salt, hashlib.sha256).hexdigest(),
    }
    assert not attempts & recorded
    assert "secret_digests" not in data
    _canaries_absent(Path("plan.json").read_text())
