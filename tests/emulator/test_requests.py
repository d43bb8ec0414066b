"""What every API request meets: the API key, a request id, and the error shape."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from reconciler.emulator.middleware import (
    ApiMiddleware,
    RequestStats,
)
from tests.emulator.contract import (
    API_KEY,
    ApiClient,
    assert_error,
)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/data-integrations"),
        ("POST", "/data-integrations"),
        ("GET", "/data-integrations/github"),
        ("PUT", "/data-integrations/github"),
        ("DELETE", "/data-integrations/github"),
        ("GET", "/data-integrations/github/organization"),
        ("PUT", "/data-integrations/github/organization"),
        ("DELETE", "/data-integrations/github/organization"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer sk_wrong", f"Basic {API_KEY}", f"Bearer{API_KEY}"]
)
def test_every_api_path_needs_the_api_key(
    emulator_app: FastAPI, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with ApiClient(emulator_app) as anonymous:
        response = anonymous.request(method, path, headers=headers, content=b"{not json")
    assert_error(response, 401, "unauthorized")


def test_request_id_is_echoed_or_generated_on_every_answer(client: ApiClient) -> None:
    echoed = client.get("/data-integrations", headers={"X-Request-ID": "ci-run-42"})
    assert echoed.headers["X-Request-ID"] == "ci-run-42"
    for response in (
        client.get("/data-integrations"),
        client.get("/data-integrations", headers={"Authorization": "Bearer nope"}),
        client.get("/no/such/route"),
        client.get("/data-integrations?limit=0"),
        client.get("/data-integrations/github"),
        client.get("/_emulator/stats"),
    ):
        assert re.match(r"^req_[0-9A-Z]{26}$", response.headers["X-Request-ID"])


def test_unknown_routes_and_methods_answer_the_error_shape(client: ApiClient) -> None:
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(client.get("/data-integrations/a/b/c"), 404, "not_found")
    assert_error(client.patch("/data-integrations/github"), 405, "method_not_allowed")


def test_an_unexpected_failure_still_answers_json_with_a_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = ApiMiddleware(broken, api_key=API_KEY, latency_ms=0, stats=RequestStats(), routes=[])
    with ApiClient(app) as test_client:
        response = test_client.get("/anything")
    assert_error(response, 500, "internal_error")
    assert "boom" not in response.text
