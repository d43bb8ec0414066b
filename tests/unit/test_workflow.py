"""The workflow carries the rules: a Python caller gets the CLI's refusals.

``review`` plans under the policy and names the refusals; ``execute``
refuses an unsafe review whoever calls it (an edited review included) and
runs only against the API and key the review was made with.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from reconciler import planfile
from reconciler.api import IntegrationsApi
from reconciler.emulator.app import create_app
from reconciler.errors import ApplyFailedError, ConfigError, StalePlanError, UnsafePlanError
from reconciler.identity import Identity
from reconciler.models import Desired, Ownership, RemoteIntegration
from reconciler.plan import Action, ActionKind
from reconciler.policy import DEFAULT_POLICY, Policy, load_policy
from reconciler.results import ActionResult, ApplyResult, Outcome
from reconciler.workflow import Review, execute, review, save
from tests.support import client_for, custom_body, run, stats
from tests.support.factories import desired, desired_state, remote, secret_ref


def _policy(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return load_policy(str(path))


def _review(app: FastAPI, state: Desired, **options: Any) -> Review:
    async def scenario() -> Review:
        async with client_for(app) as api:
            return await review(state, api, **options)

    return run(scenario())


def _execute(app: FastAPI, reviewed: Review, **options: Any) -> ApplyResult:
    async def scenario() -> ApplyResult:
        async with client_for(app, **options.pop("client", {})) as api:
            return await execute(reviewed, api, **options)

    return run(scenario())


def test_a_protected_integration_cannot_be_deleted_through_execute(tmp_path: Path) -> None:
    app = create_app(seed=[custom_body("acme"), custom_body("crm")])
    policy = _policy(tmp_path, "version: 1\nsafety:\n  protect: [acme]\n")
    state = desired_state(desired(slug="crm", custom_provider={}), prune=True)

    reviewed = _review(app, state, policy=policy)

    assert [(a.kind, a.slug) for a in reviewed.plan.actions] == [(ActionKind.DELETE, "acme")]
    assert not reviewed.safe
    assert "acme (user) (delete)" in reviewed.refusals[0].message
    assert reviewed.refusals[0].identities == (("acme", "user"),)
    assert reviewed.refusals[0].message in reviewed.plan.warnings  # every format shows it
    with pytest.raises(UnsafePlanError, match="refusing to delete or replace protected"):
        reviewed.raise_if_unsafe()
    with pytest.raises(UnsafePlanError, match="acme"):
        _execute(app, reviewed)
    # a review edited to look safe is refused all the same: execute checks the plan itself
    cleared = dataclasses.replace(reviewed, refusals=())
    with pytest.raises(UnsafePlanError, match="acme"):
        _execute(app, cleared)
    assert run(stats(app))["by_method"].get("DELETE", 0) == 0


def test_protect_true_in_the_manifest_holds_through_execute() -> None:
    app = create_app(seed=[custom_body("acme", description="old")])
    # a creation-only change (auth_methods) forces a replace of a protected integration
    state = desired_state(
        desired(slug="acme", protect=True, auth_methods=["api_key"], custom_provider={})
    )
    reviewed = _review(app, state)
    assert [a.kind for a in reviewed.plan.actions] == [ActionKind.REPLACE]
    with pytest.raises(UnsafePlanError, match=r"acme \(user\) \(replace\)"):
        _execute(app, dataclasses.replace(reviewed, refusals=()))
    assert run(stats(app))["by_method"].get("DELETE", 0) == 0


def _many(count: int) -> list[dict[str, Any]]:
    return [custom_body(f"crm-{i:02}") for i in range(count)]


def test_the_delete_threshold_holds_through_execute_and_force_lifts_only_it() -> None:
    app = create_app(seed=_many(10))
    keep = [desired(slug=f"crm-{i:02}", custom_provider={}) for i in range(6)]
    state = desired_state(*keep, prune=True)  # deletes 4 of 10: over the default 0.3

    reviewed = _review(app, state)
    assert len(reviewed.plan.actions) == 4
    with pytest.raises(UnsafePlanError, match="deletes or replaces 4 of 10"):
        _execute(app, reviewed)
    assert run(stats(app))["by_method"].get("DELETE", 0) == 0

    forced = _review(app, state, force=True)
    assert forced.safe
    result = _execute(app, forced)
    assert result.ok and len(result.succeeded) == 4
    assert run(stats(app))["by_method"]["DELETE"] == 4


def test_prune_is_refused_where_the_policy_forbids_it_even_with_force(tmp_path: Path) -> None:
    app = create_app(seed=[custom_body("acme")])
    policy = _policy(tmp_path, "version: 1\nsafety:\n  allow_prune: false\n")
    reviewed = _review(app, desired_state(prune=True), policy=policy, force=True)
    with pytest.raises(UnsafePlanError, match="does not allow prune"):
        _execute(app, reviewed)


def test_execute_refuses_a_review_made_with_another_key_or_api() -> None:
    app = create_app(seed=[custom_body("acme", description="old")])
    state = desired_state(desired(slug="acme", custom_provider={}, description="new"))
    reviewed = _review(app, state)
    with pytest.raises(StalePlanError, match="another API key"):
        _execute(app, reviewed, client={"api_key": "sk_test_another_environment"})
    with pytest.raises(StalePlanError, match="another API"):
        _execute(app, reviewed, client={"base_url": "http://127.0.0.1:9"})
    assert run(stats(app))["by_method"].get("PUT", 0) == 0


def test_review_checks_the_environment_before_any_request(tmp_path: Path) -> None:
    app = create_app()
    state = desired_state(environment="production")
    with pytest.raises(ConfigError, match="environment 'production'"):
        _review(app, state, environment="staging")
    policy = _policy(tmp_path, "version: 1\nenvironment: staging\n")
    with pytest.raises(ConfigError, match="this manifest is for environment 'production'"):
        _review(app, state, policy=policy)
    assert run(stats(app))["by_method"]["GET"] == 0  # refused before listing


def test_execute_sends_the_secret_and_reports_each_action_start_and_result() -> None:
    app = create_app(seed=[custom_body("old")])
    state = desired_state(
        desired(secret="the-manifest-secret-9876", slug="github", credentials=secret_ref()),
        desired(slug="slack", credentials={"type": "organization"}),
    )
    reviewed = _review(app, state)
    assert "the-manifest-secret-9876" not in repr(reviewed)
    started: list[Action] = []
    finished: list[ActionResult] = []
    result = _execute(app, reviewed, on_start=started.append, on_result=finished.append)
    assert result.ok
    assert sorted(a.slug for a in started) == ["github", "slack"]
    assert [r.action.slug for r in finished] == [a.slug for a in started]
    again = _review(app, state)
    assert not again.has_changes  # the secret went with the create: its last 4 match
    found = {r.slug: r for r in run(_list(app))}
    assert found["github"].credentials is not None
    assert found["github"].credentials.redacted_client_secret == "9876"


async def _list(app: FastAPI) -> list[RemoteIntegration]:
    async with client_for(app) as api:
        return await api.list_integrations()


def test_review_with_a_saved_plan_runs_exactly_it_or_says_it_is_stale(tmp_path: Path) -> None:
    app = create_app(seed=[custom_body("acme", description="old")])
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("# the saved plan's digest reads the files the state came from\n")
    state = dataclasses.replace(
        desired_state(desired(slug="acme", custom_provider={}, description="new")),
        files=(str(manifest),),
    )
    reviewed = _review(app, state)
    path = tmp_path / "plan.json"
    path.write_text(run(_saved(app, reviewed)))
    saved = planfile.read(str(path))

    again = _review(app, state, saved=saved)
    assert again.plan.actions == reviewed.plan.actions
    assert _execute(app, again).ok
    with pytest.raises(StalePlanError, match=r"acme \(user\) changed since the plan"):
        _review(app, state, saved=saved)


async def _saved(app: FastAPI, reviewed: Review) -> str:
    async with client_for(app) as api:
        return save(reviewed, api)


def test_raise_for_failures_counts_failed_and_skipped() -> None:
    action = Action(ActionKind.DELETE, "acme", "user")
    ok = ActionResult(action, Outcome.SUCCEEDED, 0.1)
    failed = ActionResult(action, Outcome.FAILED, 0.1, "API error 500")
    skipped = ActionResult(action, Outcome.SKIPPED, 0.0)
    ApplyResult((ok,)).raise_for_failures()  # all succeeded: nothing raised
    with pytest.raises(ApplyFailedError, match=r"^1 failed of 2 actions; fix the cause"):
        ApplyResult((ok, failed)).raise_for_failures()
    with pytest.raises(ApplyFailedError, match=r"^1 failed and 1 not started .* of 3 actions"):
        ApplyResult((ok, failed, skipped), stopped=True).raise_for_failures()


class InMemoryApi:
    """A fake of the API Protocol with no HTTP at all: what ``execute`` needs, nothing more."""

    base_url = "memory://"
    api_key = "sk_test_in_memory_key"

    def __init__(self, *existing: RemoteIntegration) -> None:
        self.objects = {r.identity: r for r in existing}
        self.calls: list[tuple[str, str]] = []

    async def list_integrations(
        self, ownership: Ownership | None = None
    ) -> list[RemoteIntegration]:
        return list(self.objects.values())

    async def get(self, slug: str, ownership: Ownership) -> RemoteIntegration | None:
        return self.objects.get(Identity(slug, ownership))

    async def create(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> RemoteIntegration:
        self.calls.append(("create", body["provider"]))
        made = remote(body["provider"], body["ownership"], description=body.get("description"))
        self.objects[made.identity] = made
        return made

    async def update(
        self, slug: str, ownership: Ownership, body: dict[str, Any]
    ) -> RemoteIntegration:
        self.calls.append(("update", slug))
        return self.objects[Identity(slug, ownership)]

    async def delete(self, slug: str, ownership: Ownership) -> None:
        self.calls.append(("delete", slug))
        del self.objects[Identity(slug, ownership)]


def test_the_workflow_runs_on_any_implementation_of_the_api_protocol() -> None:
    api = InMemoryApi(remote("github", description="old"), remote("slack"))
    typed: IntegrationsApi = api  # mypy checks the fake against the Protocol
    state = desired_state(desired(slug="github", description="new"), prune=True)

    async def scenario() -> ApplyResult:
        reviewed = await review(state, typed, policy=DEFAULT_POLICY)
        assert reviewed.target.api_url == "memory://"
        assert reviewed.target.api_key_hint == "sk_…_key"
        return await execute(reviewed, typed)

    result = run(scenario())
    assert result.ok
    assert sorted(api.calls) == [("delete", "slack"), ("update", "github")]
