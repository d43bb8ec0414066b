"""Key and environment agree: `settings.api_key_kind` (the policy's `api_key_kind` wins)
against the key's sk_live_/sk_test_ prefix, before any request; a 401 says how to check
WORKOS_API_KEY."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.emulator.app import create_app
from tests.support import invoke, write_manifest

MANIFEST = """\
version: 1
settings:
  api_key_kind: {kind}
integrations:
  - slug: slack
    credentials: {{type: organization}}
"""


class NoApi(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _policy(kind: str) -> str:
    Path("policy.yaml").write_text(f"version: 1\napi_key_kind: {kind}\n", encoding="utf-8")
    return "policy.yaml"


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_test_key_for_live_manifests_is_refused_before_any_request(
    tmp_path: Path, command: str
) -> None:
    write_manifest(tmp_path, MANIFEST.format(kind="live"))
    result = invoke(None, command, "--yes" if command == "apply" else "-q", transport=NoApi())
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "Error: the manifest's settings.api_key_kind (live) asks for a live key (sk_live_...), "
        "but WORKOS_API_KEY is a test key (sk_test_...): check that the key is the right "
        "WorkOS environment's; nothing was sent\n"
    )
    assert "emulator" not in result.output, "the key itself is never shown"


def test_the_policy_wins_over_the_manifest(tmp_path: Path) -> None:
    write_manifest(tmp_path, MANIFEST.format(kind="live"))
    result = invoke(create_app(), "plan", "--policy", _policy("test"))
    assert result.exit_code == 0, result.output
    refused = invoke(None, "plan", "--policy", _policy("live"), transport=NoApi())
    assert refused.exit_code == 1
    assert "the policy's api_key_kind (live) asks for a live key" in refused.stderr


def test_a_key_of_neither_kind_is_refused_when_a_kind_is_asked(tmp_path: Path) -> None:
    write_manifest(tmp_path, MANIFEST.format(kind="test"))
    result = invoke(None, "plan", transport=NoApi(), WORKOS_API_KEY="key_0123456789")
    assert result.exit_code == 1
    assert "WORKOS_API_KEY starts with neither sk_live_ nor sk_test_" in result.stderr
    assert "key_0123456789" not in result.output


def test_no_kind_no_check(tmp_path: Path) -> None:
    write_manifest(tmp_path, "version: 1\nintegrations: []\n")
    app = create_app(api_key="sk_live_emulator")
    result = invoke(app, "plan", WORKOS_API_KEY="sk_live_emulator")
    assert result.exit_code == 0, result.output


def test_export_checks_the_policys_kind() -> None:
    refused = invoke(None, "export", "--policy", _policy("live"), transport=NoApi())
    assert refused.exit_code == 1
    assert "asks for a live key (sk_live_...), but WORKOS_API_KEY is a test key" in (refused.stderr)


def test_the_kind_is_in_the_manifest_schema() -> None:
    from reconciler.schema import manifest_schema

    settings = manifest_schema()["$defs"]["Settings"]["properties"]
    assert settings["api_key_kind"]["anyOf"][0]["enum"] == ["live", "test"]


def test_a_401_names_workos_api_key(tmp_path: Path) -> None:
    write_manifest(tmp_path, "version: 1\nintegrations: []\n")
    result = invoke(create_app(), "plan", WORKOS_API_KEY="sk_test_wrong-key-0000")
    assert result.exit_code == 1
    assert "API error 401" in result.stderr
    assert "check WORKOS_API_KEY, which must be an active secret key" in result.stderr
    assert "wrong-key" not in result.output
