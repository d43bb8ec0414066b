"""Saved plans end to end: `plan --out` then `apply --plan`, and every stale-plan refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import (
    API_KEY,
    AUTH,
    BASE_URL,
    CANARY_SECRET,
    SLACK_AND_NOTION_SEED,
    invoke,
    run,
    stats,
    writes,
)

MANIFEST = """\
version: 1
settings:
  prune: true
integrations:
  - slug: github
    description: Production GitHub app
    credentials:
      type: custom
      client_id: Iv1.abc123
      client_secret: ${env:RECONCILER_GITHUB_SECRET}
  - slug: slack
    ownership: organization
    description: new description
    credentials:
      type: organization
"""
SEED = SLACK_AND_NOTION_SEED


@pytest.fixture
def app() -> FastAPI:
    return create_app(seed=SEED)


@pytest.fixture
def manifest_text() -> str:
    return MANIFEST


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its ``tmp_path``: a plan is made without -f, saved as plan.json."""
    monkeypatch.chdir(tmp_path)


def _save(app: FastAPI) -> Path:
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 0, result.output
    assert "apply --plan plan.json" in result.stderr
    return Path("plan.json")


def _put(app: FastAPI, path: str, body: dict[str, Any]) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=BASE_URL,
            headers=AUTH,
        ) as http:
            (await http.put(path, json=body)).raise_for_status()

    run(go())


def test_saved_plan_applies_exactly_and_holds_no_secret(manifest: Path, app: FastAPI) -> None:
    saved = _save(app)
    text = saved.read_text()
    assert CANARY_SECRET not in text
    assert API_KEY not in text
    data = json.loads(text)
    assert [(c["action"], c["slug"]) for c in data["plan"]["changes"]] == [
        ("delete", "notion"),
        ("create", "github"),
        ("update", "slack"),
    ]
    assert writes(app) == 0
    applied = invoke(app, "apply", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 3
    assert CANARY_SECRET not in applied.output
    again = invoke(app, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_remote_change_by_another_request_makes_the_plan_stale(
    manifest: Path, app: FastAPI
) -> None:
    saved = _save(app)
    _put(app, "/data-integrations/slack/organization", {"enabled": True})
    before = writes(app)
    result = invoke(app, "apply", "--plan", str(saved))
    assert result.exit_code == 3
    assert "stale plan: slack (organization) changed since the plan" in result.stderr
    assert writes(app) == before


def test_remote_creation_makes_a_planned_create_stale(manifest: Path, app: FastAPI) -> None:
    saved = _save(app)
    assert invoke(app, "apply", "--yes").exit_code == 0  # the first applier wins the race
    before = writes(app)
    result = invoke(app, "apply", "--plan", str(saved))
    assert result.exit_code == 3
    assert "github (user) was created since the plan" in result.stderr
    assert "notion (user) was deleted since the plan" in result.stderr  # every reason, at once
    assert writes(app) == before


def test_manifest_change_makes_the_plan_stale(manifest: Path, app: FastAPI) -> None:
    saved = _save(app)
    manifest.write_text(MANIFEST.replace("new description", "other description"))
    result = invoke(app, "apply", "--plan", str(saved))
    assert result.exit_code == 3
    assert "the manifest changed" in result.stderr
    assert writes(app) == 0


def test_secret_change_makes_the_plan_stale(manifest: Path, app: FastAPI) -> None:
    saved = _save(app)
    result = invoke(
        app, "apply", "--plan", str(saved), RECONCILER_GITHUB_SECRET="another-secret-value"
    )
    assert result.exit_code == 3
    assert "client secret of github (user) changed" in result.stderr
    assert "another-secret-value" not in result.output
    assert writes(app) == 0


def test_unrelated_remote_change_does_not_block(manifest: Path, app: FastAPI) -> None:
    manifest.write_text(MANIFEST.replace("prune: true", "prune: false"))
    saved = _save(app)
    _put(app, "/data-integrations/notion", {"description": "edited by hand"})
    result = invoke(app, "apply", "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert run(stats(app))["by_method"]["PUT"] == 2


def test_plan_for_another_target_is_refused(manifest: Path, app: FastAPI) -> None:
    saved = _save(app)
    result = invoke(app, "apply", "--plan", str(saved), WORKOS_BASE_URL="http://127.0.0.1:9")
    assert result.exit_code == 3
    assert "it was made for" in result.stderr


def test_not_a_plan_file(manifest: Path, app: FastAPI) -> None:
    Path("bogus.json").write_text("{}")
    result = invoke(app, "apply", "--plan", "bogus.json")
    assert result.exit_code == 1
    assert "not a saved plan" in result.stderr
    missing = invoke(app, "apply", "--plan", "missing.json")
    assert missing.exit_code == 1 and "no such plan file" in missing.stderr


def test_unsafe_plan_is_not_saved(manifest: Path) -> None:
    seed = [
        {
            "provider": f"p{i:02d}",
            "custom_provider": {
                "name": "P",
                "authorization_url": "https://p.example/authorize",
                "token_url": "https://p.example/token",
            },
            "credentials": {"type": "organization"},
        }
        for i in range(10)
    ]
    app = create_app(seed=seed)
    manifest.write_text("version: 1\nsettings:\n  prune: true\nintegrations: []\n")
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 3
    assert "10 of 10" in result.stderr
    assert not Path("plan.json").exists()
    forced = invoke(app, "plan", "--out", "plan.json", "--force")
    assert forced.exit_code == 0
    refused = invoke(app, "apply", "--plan", "plan.json")
    assert refused.exit_code == 3
    assert writes(app) == 0
    assert invoke(app, "apply", "--plan", "plan.json", "--force").exit_code == 0
    assert writes(app) == 10


@pytest.mark.parametrize(
    "content",
    [
        {"kind": "reconciler-saved-plan", "version": 3, "manifest": {"files": ["m.yaml"]}},
        {
            "kind": "reconciler-saved-plan",
            "version": 3,
            "api_url": "http://localhost",
            "api_key_fingerprint": "x",
            "policy": {"name": "the default policy", "sha256": "x"},
            "salt": "zz",
            "rotate_secrets": False,
            "digests": [],
            "manifest": {"files": ["integrations.yaml"], "sha256": "x"},
            "plan": {"changes": []},
        },
        {
            "kind": "reconciler-saved-plan",
            "version": 3,
            "api_url": "http://localhost",
            "api_key_fingerprint": "x",
            "policy": {"name": "the default policy", "sha256": "x"},
            "salt": "00",
            "rotate_secrets": False,
            "digests": [{"change": "x", "secret": None}],
            "manifest": {"files": ["integrations.yaml"], "sha256": "x"},
            "plan": {"changes": [{"slug": "a", "ownership": "nobody"}]},
        },
    ],
)
def test_an_altered_plan_file_is_refused_cleanly(
    manifest: Path, app: FastAPI, content: dict[str, Any]
) -> None:
    Path("altered.json").write_text(json.dumps(content))
    result = invoke(app, "apply", "--plan", "altered.json")
    assert result.exit_code == 1, result.output
    assert "not a saved plan" in result.stderr
    assert "Traceback" not in result.output
    assert writes(app) == 0


def test_plan_out_to_an_unwritable_path(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "plan", "--out", "no/such/dir/plan.json")
    assert result.exit_code == 1
    assert "cannot write the plan to no/such/dir/plan.json" in result.stderr
    assert "Traceback" not in result.output


def test_a_change_to_a_shared_definition_makes_a_planned_create_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(
        seed=[
            {
                "provider": "acme",
                "ownership": "organization",
                "custom_provider": {
                    "name": "Acme",
                    "authorization_url": "https://acme.example/a",
                    "token_url": "https://acme.example/t",
                },
                "credentials": {"type": "organization"},
            }
        ]
    )
    Path("integrations.yaml").write_text(
        "version: 1\nintegrations:\n  - slug: acme\n    credentials: {type: organization}\n"
        "    custom_provider: {name: Acme, token_url: 'https://new.example/t'}\n"
    )
    planned = invoke(app, "plan", "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    assert "shares its custom_provider definition with acme (organization)" in planned.stdout
    assert '"https://acme.example/t" → "https://new.example/t"' in planned.stdout
    _put(
        app,
        "/data-integrations/acme/organization",
        {"custom_provider": {"token_url": "https://other.example/t"}},
    )
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 3, result.output
    assert "acme (user) would now be planned differently" in result.stderr
