"""Property test of the exporter: any remote state exports to a manifest that plans clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.exporter import (
    export_manifest,
)
from reconciler.fields import (
    CUSTOM_PROVIDER_FIELDS,
    INTEGRATION_FIELDS,
)
from reconciler.manifest import load
from reconciler.planner import plan
from tests.support.exporter import _remote_state

# --- round trip, property: any remote state exports to a manifest that plans clean ------

PROPERTY_CUSTOM = ("crm-a", "crm_b")
PROPERTY_IDENTITIES = [
    (slug, ownership)
    for slug in ("github", "snowflake", *PROPERTY_CUSTOM)
    for ownership in ("user", "organization")
]
_texts = st.sampled_from(["", "Prod | <app>", "0o17", "yes", "two\nlines"])
_urls = st.sampled_from(["https://a.example/x", "https://b.example/y"])
_provider_values: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["CRM", "Other CRM"]),
    "authorization_url": _urls,  # required for OAuth: never null
    "token_url": _urls,
    "refresh_token_url": st.one_of(st.none(), _urls),
    "pkce_enabled": st.booleans(),
    "request_scope_separator": st.sampled_from([" ", ",", "+"]),
    "scopes_required": st.booleans(),
    "client_secret_required": st.booleans(),
    "additional_authorization_parameters": st.dictionaries(
        st.sampled_from(["prompt", "access_type"]), st.sampled_from(["consent", "offline"])
    ),
    "token_body_content_type": st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json"]
    ),
    "authenticate_via": st.sampled_from(["request_body", "basic_auth_header"]),
}


_REQUIRED_PROVIDER_KEYS = ("name", "authorization_url", "token_url")


@st.composite
def remote_bodies(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Create bodies of a random remote state: any field given or left at its default."""
    assert set(_provider_values) == {f.key for f in CUSTOM_PROVIDER_FIELDS}
    definitions = {
        slug: draw(
            st.fixed_dictionaries(
                {k: _provider_values[k] for k in _REQUIRED_PROVIDER_KEYS},
                optional={
                    k: v for k, v in _provider_values.items() if k not in _REQUIRED_PROVIDER_KEYS
                },
            )
        )
        for slug in PROPERTY_CUSTOM
    }
    bodies = []
    for index, (slug, ownership) in enumerate(
        draw(st.lists(st.sampled_from(PROPERTY_IDENTITIES), unique=True, max_size=5))
    ):
        methods = draw(st.sampled_from([["oauth"], ["oauth", "api_key"], ["api_key"]]))
        optional: dict[str, st.SearchStrategy[Any]] = {
            "description": st.one_of(st.none(), _texts),
            "enabled": st.booleans(),
            "scopes": st.one_of(
                st.none(), st.lists(st.sampled_from(["write", "read", "a b"]), unique=True)
            ),
        }
        if slug == "snowflake":  # the one provider that declares a config key
            optional["config"] = st.dictionaries(st.just("account"), _texts)
        body: dict[str, Any] = {
            "provider": slug,
            "ownership": ownership,
            "auth_methods": methods,
            **draw(st.fixed_dictionaries({}, optional=optional)),
        }
        if "oauth" in methods:
            body["credentials"] = draw(
                st.sampled_from(
                    [
                        {"type": "organization"},
                        {
                            "type": "custom",
                            "client_id": f"app-{index}",
                            "client_secret": f"secret-{index}-value-{index:04d}",
                        },
                    ]
                )
            )
        if slug in PROPERTY_CUSTOM:
            body["custom_provider"] = definitions[slug]
        bodies.append(body)
    return bodies


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(bodies=remote_bodies())
def test_any_remote_state_exports_to_a_manifest_that_plans_clean(
    bodies: list[dict[str, Any]], tmp_path: Path
) -> None:
    state = _remote_state(bodies)
    export = export_manifest(state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    secrets = {
        (body["provider"], body["ownership"]): body["credentials"]["client_secret"]
        for body in bodies
        if body.get("credentials", {}).get("type") == "custom"
    }
    environ = {v.name: secrets[v.slug, v.ownership] for v in export.secrets}
    desired = load([manifest], environ=environ)
    result = plan(desired, state)
    assert result.actions == ()
    assert result.unmanaged == ()
    for item in desired.integrations:  # every field managed: none left to hide drift
        assert all(item.managed(f.key) for f in INTEGRATION_FIELDS), item.identity
