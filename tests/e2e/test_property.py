"""Property: for random desired and remote states, apply then plan is empty,
and integrations outside the plan are untouched."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applier import apply_plan
from reconciler.emulator.app import create_app
from reconciler.models import Desired, DesiredIntegration
from reconciler.planner import plan
from tests.support import client_for, run
from tests.support.factories import desired, desired_state

BUILTIN = ("github", "slack")
CUSTOM = ("crm-a", "crm-b")
IDENTITIES = [(s, o) for s in BUILTIN + CUSTOM for o in ("user", "organization")]
SECRETS = ("alpha-secret-1111", "beta-secret-2222", "gamma-secret-1111")

descriptions = st.one_of(st.none(), st.sampled_from(["a", "b", "Prod | <app>"]))
scopes = st.one_of(  # a set: the manifest refuses a repeated scope
    st.none(), st.lists(st.sampled_from(["read", "write", "admin"]), max_size=2, unique=True)
)
credentials = st.one_of(
    st.just({"type": "organization"}),
    st.tuples(st.sampled_from(["id-1", "id-2"]), st.sampled_from(SECRETS)).map(
        lambda t: {"type": "custom", "client_id": t[0], "client_secret": t[1]}
    ),
)
definitions = st.fixed_dictionaries(
    {  # the endpoints are required for OAuth integrations
        "name": st.sampled_from(["CRM", "Other CRM"]),
        "authorization_url": st.just("https://a.example/authorize"),
        "token_url": st.sampled_from(["https://a.example/token", "https://b.example/token"]),
    },
    optional={"pkce_enabled": st.booleans()},
)


@st.composite
def remote_states(draw: st.DrawFn) -> list[dict[str, Any]]:
    bodies = []
    chosen = draw(st.lists(st.sampled_from(IDENTITIES), unique=True))
    shared = {slug: draw(definitions) for slug in CUSTOM}
    for slug, ownership in chosen:
        body: dict[str, Any] = {
            "provider": slug,
            "ownership": ownership,
            "description": draw(descriptions),
            "enabled": draw(st.booleans()),
            "scopes": draw(scopes),
            "credentials": draw(credentials),
        }
        if slug in CUSTOM:
            body["custom_provider"] = shared[slug]
        bodies.append(body)
    return bodies


@st.composite
def desired_states(draw: st.DrawFn) -> Desired:
    entries: list[DesiredIntegration] = []
    chosen = draw(st.lists(st.sampled_from(IDENTITIES), unique=True))
    shared = {slug: draw(definitions) for slug in CUSTOM}
    for slug, ownership in chosen:
        fields: dict[str, Any] = {"slug": slug, "ownership": ownership}
        optional = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "description": descriptions,
                    "enabled": st.booleans(),
                    "scopes": scopes,
                },
            )
        )
        fields.update(optional)
        creds = draw(credentials)
        secret = creds.pop("client_secret", None)
        if secret is not None:
            creds["client_secret"] = "${env:RECONCILER_SECRET}"
        fields["credentials"] = creds
        if slug in CUSTOM:
            fields["custom_provider"] = shared[slug]
        entries.append(desired(secret=secret, **fields))
    return desired_state(
        *entries,
        prune=draw(st.booleans()),
        ignore=draw(st.sampled_from([[], ["slack"], ["crm-*"]])),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(remote_bodies=remote_states(), state=desired_states())
def test_apply_then_plan_is_empty_and_the_rest_is_untouched(
    remote_bodies: list[dict[str, Any]], state: Desired
) -> None:
    app = create_app(seed=remote_bodies)

    async def scenario() -> None:
        async with client_for(app) as client:
            before = {r.identity: r for r in await client.list_integrations()}
            first = plan(state, list(before.values()))
            result = await apply_plan(first, client, secrets=state.secrets())
            assert result.ok, [r.error for r in result.failed]
            after = {r.identity: r for r in await client.list_integrations()}
            assert plan(state, list(after.values())).actions == ()
            touched = {a.identity for a in first.actions}
            shared_changed = {a.slug for a in first.actions if "custom_provider" in a.values}
            for identity, old in before.items():
                if identity in touched or identity[0] in shared_changed:
                    continue
                assert after[identity].model_dump() == old.model_dump()

    run(scenario())
