"""The API contract as the emulator's tests check it: the fields of an answer, the custom
provider's defaults, body builders, an in-process client and the error-shape assertions.

Shared by the tests of ``tests/emulator`` (the ``client`` fixture is in its conftest).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests import support

API_KEY = support.API_KEY  # the one key, from tests.support
AUTH = support.AUTH
CANARY = "canary-s3cr3t-7f1c9a2e-ends-WXYZ"
CANARY_ROTATED = "canary-r0tated-5b8d3c10-ends-QRST"
ID_RE = re.compile(r"^data_integration_[0-9A-HJKMNP-TV-Z]{26}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RESPONSE_FIELDS = {
    "object",
    "id",
    "slug",
    "integration_type",
    "ownership",
    "description",
    "enabled",
    "state",
    "scopes",
    "redirect_uri",
    "auth_methods",
    "credentials",
    "installation",
    "config",
    "custom_provider",
    "created_at",
    "updated_at",
}
CONTRACT_DEFAULTS: dict[str, Any] = {
    "authorization_url": None,
    "token_url": None,
    "refresh_token_url": None,
    "pkce_enabled": True,
    "request_scope_separator": " ",
    "scopes_required": False,
    "client_secret_required": True,
    "additional_authorization_parameters": {},
    "token_body_content_type": "application/x-www-form-urlencoded",
    "authenticate_via": "request_body",
}
ACME = {
    "name": "Acme CRM",
    "authorization_url": "https://crm.acme.example/oauth/authorize",
    "token_url": "https://crm.acme.example/oauth/token",
}


def custom_credentials(secret: str = CANARY, client_id: str = "Iv1.abc123") -> dict[str, Any]:
    return {"type": "custom", "client_id": client_id, "client_secret": secret}


ORG_CREDENTIALS = {"type": "organization"}


def github(**fields: Any) -> dict[str, Any]:
    return {"provider": "github", "credentials": custom_credentials(), **fields}


def acme(slug: str = "acme-crm", **fields: Any) -> dict[str, Any]:
    return {"provider": slug, "custom_provider": ACME, "credentials": ORG_CREDENTIALS, **fields}


class ApiClient:
    """A synchronous face on ``httpx.AsyncClient`` over ``ASGITransport`` (no lifespan)."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self._runner = asyncio.Runner()
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://localhost",
            headers=headers,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._runner.run(self._http.aclose())
        self._runner.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._http.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def create(client: ApiClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post("/data-integrations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["code"], str) and body["code"]
    assert "detail" not in body
    if code is not None:
        assert body["code"] == code
    assert response.headers["X-Request-ID"]
    return body


def error_fields(response: httpx.Response) -> set[str]:
    body = assert_error(response, 422)
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
    return {error["field"] for error in body["errors"]}
