"""`reconciler show PLAN_FILE`: a saved plan in every format, with its target, age and
fingerprints, and no API call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from reconciler import planfile
from reconciler.emulator.app import create_app
from reconciler.show import describe_age, show
from tests.support import REPO_ROOT, SLACK_AND_NOTION_SEED, invoke

MANIFEST = """\
version: 1
integrations:
  - slug: github
    description: Production GitHub app
    credentials:
      type: organization
  - slug: slack
    ownership: organization
    description: new description
"""
PLAN_SCHEMA = json.loads((REPO_ROOT / "schemas" / "plan.schema.json").read_text())


class NoApi(httpx.AsyncBaseTransport):
    """A transport that fails the test on any request."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"show made an API call: {request.method} {request.url}")


@pytest.fixture
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("integrations.yaml").write_text(MANIFEST, encoding="utf-8")
    app: FastAPI = create_app(seed=SLACK_AND_NOTION_SEED)
    made = invoke(app, "plan", "-o", "plan.json")
    assert made.exit_code == 0, made.output
    return tmp_path / "plan.json"


def _show(*args: str) -> tuple[int, str]:
    result = invoke(None, "show", *args, transport=NoApi(), WORKOS_API_KEY="")
    return result.exit_code, result.output


def test_show_text(saved: Path) -> None:
    code, output = _show("plan.json")
    assert code == 0, output
    data = json.loads(saved.read_text())
    assert "Saved plan: plan.json (saved-plan version" in output
    assert f"Made:       {data['created_at']} (" in output and " s ago)" in output
    assert f"API key fingerprint {data['api_key_fingerprint'][:16]}…" in output
    assert f"Manifests:  integrations.yaml (sha256 {data['manifest']['sha256'][:16]}…)" in output
    assert f"Policy:     the default policy (sha256 {data['policy']['sha256'][:16]}…)" in output
    assert "Target:     http://localhost" in output
    assert "+ github (user) will be created" in output
    assert "~ slack (organization) will be updated in place" in output
    assert "Plan: 0 to replace, 0 to delete, 1 to create, 1 to update." in output
    assert "1 unmanaged" in output and "? notion (user)" in output


def test_show_json_is_the_saved_plan_and_its_binding(saved: Path) -> None:
    code, output = _show("plan.json", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    jsonschema.validate(document, PLAN_SCHEMA)
    data = json.loads(saved.read_text())
    assert {k: v for k, v in document.items() if k != "saved"} == data["plan"]
    assert document["saved"]["api_key_fingerprint"] == data["api_key_fingerprint"]
    assert document["saved"]["policy"] == data["policy"]
    assert document["saved"]["manifest"] == data["manifest"]
    assert document["saved"]["created_at"] == data["created_at"]
    assert 0 <= document["saved"]["age_seconds"] < 600


def test_show_markdown(saved: Path) -> None:
    code, output = _show("plan.json", "--format", "markdown")
    assert code == 0, output
    assert output.startswith("### saved plan plan.json\n")
    assert "- Target: http://localhost (API key fingerprint `" in output
    assert "**Plan:** 0 to replace, 0 to delete, 1 to create, 1 to update" in output
    assert "| ➕ create | `github` | user |" in output


def test_show_refuses_what_is_not_a_saved_plan(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"kind": "something"}')
    code, output = _show(str(tmp_path / "other.json"))
    assert code == 1
    assert "not a saved plan made by `reconciler plan --out`" in output
    code, output = _show(str(tmp_path / "missing.json"))
    assert code == 1 and "no such plan file" in output


def test_the_age_is_measured_from_the_recorded_time(saved: Path) -> None:
    data = json.loads(saved.read_text())
    made = datetime.strptime(data["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    later = show(planfile.read(str(saved)), "plan.json", now=made + timedelta(hours=3, minutes=5))
    assert later.age_seconds == 3 * 3600 + 5 * 60
    assert describe_age(later.age_seconds) == "3 h 5 min ago"
    assert describe_age(59) == "59 s ago" and describe_age(61) == "1 min ago"
    assert describe_age(2 * 86400 + 3600) == "2 d 1 h ago"
    assert describe_age(-5) == "in the future (is a clock wrong?)"
    assert describe_age(None).startswith("unknown")


def test_show_escapes_what_the_file_holds(saved: Path) -> None:
    """A saved plan is a file anyone could have edited: its strings can't forge lines."""
    data = json.loads(saved.read_text())
    data["plan"]["unmanaged"] = [
        {"slug": "evil\n+ forged (user) will be created", "ownership": "user"}
    ]
    saved.write_text(json.dumps(data))
    code, output = _show("plan.json")
    assert code == 0, output
    assert "\n+ forged" not in output
