"""What ``/openapi.json`` adds to the models: every status the emulator answers, its headers,
and examples of requests.

Every operation documents the statuses any request may get (a bad key, a body
over the cap, an invalid request, the rate limit, injected faults) besides its
own; every answer documents ``X-Request-ID``. A client generated from the
document, or a fuzzer checking answers against it, meets no surprise.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.middleware import MAX_BODY_BYTES
from reconciler.emulator.schemas import ErrorOutput

ERROR_STATUSES: dict[int, str] = {
    401: "Missing or invalid API key.",
    404: "No such integration, or no such provider.",
    409: "The integration exists, or the Idempotency-Key was used with another body.",
    413: f"The request body is over {MAX_BODY_BYTES:,} bytes.",
    422: "The request is invalid; `errors` names each invalid field.",
    429: "Rate limited (`--rate-limit`, or an injected fault): retry after `Retry-After`.",
    500: "Internal error (an injected fault, with `--fail-rate`).",
    503: "Service unavailable (an injected fault, with `--fail-rate`).",
}
ANY_REQUEST = (401, 413, 422, 429, 500, 503)
"""Statuses every API operation may answer, whatever it does."""

# Examples of requests: for readers of the document, and the first cases a fuzzer sends.
CREATE_EXAMPLES: dict[str, Any] = {
    "builtin": {
        "summary": "A built-in provider with your own OAuth app",
        "value": {
            "provider": "gitlab",
            "description": "GitLab",
            "enabled": True,
            "scopes": ["read_user"],
            "credentials": {"type": "custom", "client_id": "gl-id", "client_secret": "gl-secret"},
        },
    },
    "custom": {
        "summary": "A custom provider, each organization bringing its own credentials",
        "value": {
            "provider": "acme-crm",
            "ownership": "organization",
            "custom_provider": {
                "name": "Acme CRM",
                "authorization_url": "https://crm.acme.example/oauth/authorize",
                "token_url": "https://crm.acme.example/oauth/token",
            },
            "credentials": {"type": "organization"},
        },
    },
    "api_key": {
        "summary": "An API-key integration with provider config",
        "value": {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "a"}},
    },
}
UPDATE_EXAMPLES: dict[str, Any] = {
    "enable": {"summary": "Enable and describe", "value": {"enabled": True, "description": "On"}},
    "rotate": {
        "summary": "Rotate the client secret",
        "value": {"credentials": {"type": "custom", "client_id": "id", "client_secret": "new"}},
    },
    "scopes": {"summary": "Ask for these scopes", "value": {"scopes": ["repo", "read:org"]}},
}
SLUG_EXAMPLES: dict[str, Any] = {"builtin": {"value": "github"}, "custom": {"value": "acme-crm"}}

_REQUEST_ID = {
    "X-Request-ID": {
        "description": "The request's id: the client's own X-Request-ID if it sent a usable one.",
        "required": True,
        "schema": {"type": "string"},
    }
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the saved answer to an earlier request "
        "with the same Idempotency-Key.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def responses(success: int, *errors: int, replayable: bool = False) -> dict[int | str, Any]:
    """An operation's ``responses``: ``success``, its own ``errors`` and ``ANY_REQUEST``."""
    documented: dict[int | str, Any] = {
        success: {"headers": {**_REQUEST_ID, **(_REPLAYED if replayable else {})}}
    }
    for status in sorted({*ANY_REQUEST, *errors}):
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if status == 429 else {})}
        documented[status] = {
            "model": ErrorOutput,
            "description": ERROR_STATUSES[status],
            "headers": headers,
        }
    return documented
