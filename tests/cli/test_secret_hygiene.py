"""Canary secrets and a canary API key through every command, format and error path."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import invoke, run, stats

SECRET = "canary-client-secret-X9y8"
FILE_SECRET = "canary-file-secret-W7v6"
CANARY_API_KEY = "sk_test_canaryAPIkey-Q5r4"
MANIFEST = """\
version: 1
settings:
  prune: true
integrations:
  - slug: github
    description: GitHub
    credentials:
      type: custom
      client_id: Iv1.abc
      client_secret: ${env:RECONCILER_GITHUB_SECRET}
  - slug: slack
    credentials:
      type: custom
      client_id: slack-id
      client_secret: ${file:slack.secret}
"""
# ${file:} secrets need a policy naming their directory (the default allows none)
POLICY = """\
version: 1
references:
  files: ["../*.secret"]
"""
SEED = [
    {
        "provider": "slack",
        "credentials": {"type": "custom", "client_id": "old", "client_secret": "old-secret-0000"},
    },
    {"provider": "notion", "credentials": {"type": "organization"}},
]


class EchoingTransport(httpx.AsyncBaseTransport):
    """A hostile API: every write is refused with a message echoing the request."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        body = request.content.decode()
        headers = dict(request.headers)
        return httpx.Response(
            422,
            json={
                "message": f"bad request {body} headers {headers}",
                "code": "invalid",
                "errors": [{"field": "credentials", "code": "x", "message": body}],
            },
            headers={"X-Request-ID": "req_echo"},
        )


class WritesEcho(httpx.AsyncBaseTransport):
    """Reads go to the emulator; writes are answered by the echoing API."""

    def __init__(self, app: FastAPI) -> None:
        self.emulator = httpx.ASGITransport(app=app)
        self.echo = EchoingTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return await self.emulator.handle_async_request(request)
        return await self.echo.handle_async_request(request)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("integrations.yaml").write_text(MANIFEST)
    Path("slack.secret").write_text(FILE_SECRET + "\n")
    Path("ci").mkdir()
    Path("ci/policy.yaml").write_text(POLICY)
    return tmp_path


def run_cli(transport: httpx.AsyncBaseTransport | None, *args: str) -> Result:
    return invoke(
        None,
        *args,
        transport=transport,
        WORKOS_API_KEY=CANARY_API_KEY,
        RECONCILER_POLICY="ci/policy.yaml",
        RECONCILER_GITHUB_SECRET=SECRET,
        RECONCILER_COPY_OF_THE_KEY=CANARY_API_KEY,
        RECONCILER_VAR_COPY_OF_THE_KEY=CANARY_API_KEY,
    )


def assert_clean(text: str) -> None:
    for canary in (SECRET, FILE_SECRET, CANARY_API_KEY):
        assert canary not in text
    assert "canaryAPIkey" not in text


def test_no_canary_in_any_command_or_format(workdir: Path) -> None:
    app = create_app(api_key=CANARY_API_KEY, seed=SEED)
    transport = httpx.ASGITransport(app=app)
    results = [run_cli(None, "validate"), run_cli(None, "schema")]
    for fmt in ("text", "json", "markdown"):
        results.append(run_cli(transport, "plan", "--format", fmt))
        results.append(run_cli(transport, "-v", "plan", "--format", fmt))
        results.append(run_cli(transport, "apply", "--dry-run", "--format", fmt))
    results.append(run_cli(transport, "plan", "--out", "plan.json"))
    assert_clean(Path("plan.json").read_text())
    results.append(run_cli(transport, "-v", "apply", "--plan", "plan.json"))
    results.append(run_cli(transport, "-v", "apply", "--yes", "--format", "json"))
    for result in results:
        assert result.exit_code == 0, result.output
        assert_clean(result.output)
    assert "sk_…"[:3] in results[2].output  # the key is shown as sk_… plus its last 4
    assert "Q5r4" in results[2].output


def test_api_errors_echoing_the_request_are_redacted(workdir: Path) -> None:
    app = create_app(api_key=CANARY_API_KEY, seed=SEED)
    for args in (
        ["apply", "--yes"],
        ["-v", "apply", "--yes"],
        ["apply", "--yes", "--format", "json"],
    ):
        result = run_cli(WritesEcho(app), *args)
        assert result.exit_code == 1
        assert "FAILED" in result.output or '"failed"' in result.output
        assert "(redacted)" in result.output
        assert_clean(result.output)


def test_errors_before_any_request_hold_no_canary(workdir: Path) -> None:
    Path("integrations.yaml").write_text(
        MANIFEST.replace("${env:RECONCILER_GITHUB_SECRET}", SECRET)
    )
    result = run_cli(None, "validate")
    assert result.exit_code == 1
    assert "must be a reference" in result.output
    assert_clean(result.output)


def test_json_results_hold_no_secret(workdir: Path) -> None:
    app = create_app(api_key=CANARY_API_KEY, seed=SEED)
    result = run_cli(httpx.ASGITransport(app=app), "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {r["outcome"] for r in document["results"]} == {"succeeded"}
    assert_clean(result.stdout)


SECRETS_ONLY = (
    "references are secrets: they resolve in credentials.client_secret only; "
    "a plain value may be ${var:NAME}"
)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "description",
            "${env:RECONCILER_GITHUB_SECRET}",
            f"integrations.yaml:6:18: description: ${{env:...}} {SECRETS_ONLY}",
        ),
        (
            "scopes",
            "[repo, '${env:RECONCILER_GITHUB_SECRET}']",
            f"integrations.yaml:6:20: scopes[1]: ${{env:...}} {SECRETS_ONLY}",
        ),
        (
            "description",
            "${env:RECONCILER_COPY_OF_THE_KEY}",
            f"integrations.yaml:6:18: description: ${{env:...}} {SECRETS_ONLY}",
        ),
        (
            "description",
            "${file:slack.secret}",
            f"integrations.yaml:6:18: description: ${{file:...}} {SECRETS_ONLY}",
        ),
        (
            "description",
            "${var:RECONCILER_GITHUB_SECRET}",
            "(references.vars: RECONCILER_VAR_*)",
        ),
        (
            "description",
            "${var:RECONCILER_VAR_COPY_OF_THE_KEY}",
            "integrations.yaml:6:18: description: ${var:RECONCILER_VAR_COPY_OF_THE_KEY}: "
            "the value contains the API key (WORKOS_API_KEY); refused",
        ),
    ],
)
def test_a_secret_in_a_plain_field_is_refused_before_any_request(
    workdir: Path, field: str, value: str, expected: str
) -> None:
    Path("integrations.yaml").write_text(
        MANIFEST.replace("    description: GitHub\n", f"    {field}: {value}\n")
    )
    app = create_app(api_key=CANARY_API_KEY, seed=SEED)
    for args in (["validate"], ["plan"], ["plan", "--format", "json"], ["apply", "--yes"]):
        result = run_cli(httpx.ASGITransport(app=app), *args)
        assert result.exit_code == 1, result.output
        assert expected in result.stderr
        assert_clean(result.output)
    by_method = run_stats(app)
    assert sum(by_method.values()) == 0


def run_stats(app: FastAPI) -> dict[str, int]:
    """The app's request counts (its control route needs this module's own API key)."""
    return dict(run(stats(app, api_key=CANARY_API_KEY))["by_method"])
