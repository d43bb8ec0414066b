"""Schemathesis against the emulator's own OpenAPI document, in-process (no sockets).

Every operation gets the documented examples, schemathesis's coverage cases and
a bounded number of generated requests, valid and invalid: no answer may be a
5xx, and every answer must have a documented status, body and headers. The
examples are derandomized, so a run repeats itself and takes a few seconds.
A second run injects faults (429, 500, 503) and checks that they too answer as
documented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reconciler.emulator.app import create_app
from reconciler.emulator.faults import Fault, FaultKind
from reconciler.emulator.service import Service

API_KEY = "sk_test_schemathesis"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SEED: list[dict[str, Any]] = [
    {
        "provider": "github",
        "credentials": {"type": "custom", "client_id": "gh-id", "client_secret": "gh-secret-1"},
    },
    {"provider": "github", "ownership": "organization", "credentials": {"type": "organization"}},
    {
        "provider": "acme-crm",
        "custom_provider": {
            "name": "Acme CRM",
            "authorization_url": "https://crm.acme.example/authorize",
            "token_url": "https://crm.acme.example/token",
        },
        "credentials": {"type": "organization"},
    },
    {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "a"}},
]
CONFORMANCE: list[Callable[..., bool | None]] = [
    response_schema_conformance,
    status_code_conformance,
    response_headers_conformance,
    content_type_conformance,
]
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

APP = create_app(api_key=API_KEY, hosts=("testserver",))  # the host schemathesis sends
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


class EveryRequestFails:
    """A fault policy that answers 429, 500 and 503 in turn, before any change."""

    def __init__(self) -> None:
        self.count = 0

    def choose(self, method: str, target: str, body: bytes) -> Fault | None:
        kinds = (FaultKind.TOO_MANY_REQUESTS, FaultKind.INTERNAL_ERROR, FaultKind.UNAVAILABLE)
        self.count += 1
        return Fault(kinds[self.count % len(kinds)])

    def reset(self) -> None:
        self.count = 0


FAULTY_APP = create_app(api_key=API_KEY, faults=EveryRequestFails(), hosts=("testserver",))
FAULTY_SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", FAULTY_APP)


def _fresh_state() -> None:
    """Each example starts from the same few integrations (the examples name them)."""
    service = APP.state.service
    assert isinstance(service, Service)
    service.store.reset()
    service.seed(SEED)


@SCHEMA.parametrize()
@BOUNDED
def test_no_server_error_and_every_answer_as_documented(case: schemathesis.Case[Any]) -> None:
    _fresh_state()
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error, *CONFORMANCE])


@FAULTY_SCHEMA.parametrize()
@settings(BOUNDED, max_examples=5)
def test_injected_faults_answer_as_documented(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers=AUTH, checks=CONFORMANCE)


def test_the_document_declares_every_status_the_emulator_answers() -> None:
    paths = APP.openapi()["paths"]
    for operations in paths.values():
        for operation in operations.values():
            declared = set(operation["responses"])
            assert {"401", "413", "422", "429", "500", "503"} <= declared
    assert {"404", "409"} <= set(paths["/data-integrations"]["post"]["responses"])
    assert "404" in paths["/data-integrations/{slug}"]["put"]["responses"]
