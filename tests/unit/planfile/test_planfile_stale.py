"""Saved plans made stale: the manifest, the key, the URL, the policy, the remote or a
secret changed since the plan, each named; a change outside the plan does not count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StalePlanError
from reconciler.models import Desired
from reconciler.planfile import (
    SavedPlan,
    read,
)
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from tests.support.factories import (
    custom_credentials,
    desired,
    desired_state,
    remote,
    secret_ref,
)
from tests.support.planfile import (
    API_URL,
    MANIFEST,
    SECRET,
    _desired,
    _remote,
    _save,
    _verify,
)


def _stale(saved: SavedPlan, **world: Any) -> str:
    with pytest.raises(StalePlanError) as caught:
        _verify(saved, **world)
    return str(caught.value)


# --- verify: every reason a plan is stale ------------------------------------------------


def test_manifest_bytes_changed_with_the_same_length_make_it_stale(manifest_file: Path) -> None:
    _, saved = _save()
    changed = MANIFEST.replace("digest", "DIGEST")
    assert len(changed) == len(MANIFEST) and changed != MANIFEST
    manifest_file.write_text(changed)
    assert _stale(saved) == "stale plan: the manifest changed since the plan was made"


def test_other_manifest_files_make_it_stale() -> None:
    _, saved = _save()
    Path("other.yaml").write_text(MANIFEST)
    state = _desired()
    other = Desired(integrations=state.integrations, settings=state.settings, files=("other.yaml",))
    message = _stale(saved, state=other)
    assert message == "stale plan: it was made from integrations.yaml, not other.yaml"


def test_another_api_key_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, api_key="sk_test_another-key-0000")
    assert "made with another API key" in message
    assert "make the plan again" in message


def test_another_api_url_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, api_url="https://api.example.test")
    assert message == f"stale plan: it was made for {API_URL}, not https://api.example.test"


def test_a_changed_policy_makes_it_stale() -> None:
    _, saved = _save()
    stricter = Policy(protect=("github",))
    assert stricter.name == DEFAULT_POLICY.name
    message = _stale(saved, policy=stricter)
    assert message == "stale plan: it was made under the default policy has changed"


def test_another_policy_file_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, policy=Policy(path="ci/policy.yaml", protect=("github",)))
    assert message == "stale plan: it was made under the default policy, not policy ci/policy.yaml"


def test_a_remote_changed_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    later = "2026-02-01T00:00:00.000Z"
    current = [remote("slack", description="old", updated_at=later)]
    message = _stale(saved, current=current)
    assert "slack (user) changed since the plan" in message
    assert f"→ {later}" in message


def test_a_remote_deleted_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    assert _stale(saved, current=[]) == "stale plan: slack (user) was deleted since the plan"


def test_a_remote_recreated_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    old = remote("slack", description="old")
    current = [remote("slack", description="old", id="data_integration_NEW")]
    message = _stale(saved, current=current)
    assert message == (
        "stale plan: slack (user) was recreated since the plan "
        f"(id {old.id} → data_integration_NEW)"
    )


def test_a_remote_created_since_the_plan_makes_a_planned_create_stale() -> None:
    _, saved = _save()
    github = remote("github", id="data_integration_GH")
    message = _stale(saved, current=[*_remote(), github])
    assert "github (user) was created since the plan (id data_integration_GH)" in message


def test_another_client_secret_with_the_same_last_4_makes_it_stale() -> None:
    _, saved = _save()
    other = "another-plan-secret-1234"
    assert other[-4:] == SECRET[-4:]
    message = _stale(saved, state=_desired(secret=other))
    assert message == "stale plan: the client secret of github (user) changed since the plan"


def test_an_action_that_would_now_be_planned_differently_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, state=_desired(slack="another description"))
    assert message == "stale plan: slack (user) would now be planned differently"


def test_every_stale_change_is_named_at_once() -> None:
    _, saved = _save()
    github = remote("github", id="data_integration_GH")
    message = _stale(saved, current=[github])
    assert "github (user) was created since the plan" in message
    assert "; slack (user) was deleted since the plan" in message


def test_a_change_to_an_integration_outside_the_plan_does_not_make_it_stale() -> None:
    made, saved = _save()
    current = _remote(description="changed by hand", updated_at="2026-03-01T00:00:00.000Z")
    assert _verify(saved, current=current).actions == made.actions


def test_an_altered_change_digest_is_planned_differently() -> None:
    _save()
    data = json.loads(Path("plan.json").read_text())
    data["digests"][1]["change"] = "0" * 64
    Path("plan.json").write_text(json.dumps(data))
    message = _stale(read("plan.json"))
    assert message == "stale plan: slack (user) would now be planned differently"


def _github_update(secret: str) -> Desired:
    """github's description changes; its custom credentials (the secret's last 4 are the
    remote's) are not sent."""
    entry = desired(secret=secret, slug="github", description="new", credentials=secret_ref())
    return desired_state(entry)


GITHUB = [remote("github", description="old", credentials=custom_credentials("client-id", "1234"))]


def test_a_secret_the_plan_does_not_send_is_not_recorded_and_may_change() -> None:
    state = _github_update(SECRET)
    (action,) = plan(state, GITHUB).actions
    assert "credentials" not in action.values
    _, saved = _save(state, GITHUB)
    assert saved.data["digests"] == [{"change": saved.data["digests"][0]["change"], "secret": None}]
    other = "another-plan-secret-1234"  # the same last 4: the same plan
    assert _verify(saved, _github_update(other), GITHUB).actions == (action,)


def test_organization_credentials_are_sent_without_a_secret_digest() -> None:
    state = desired_state(desired(slug="slack", credentials={"type": "organization"}))
    current = [remote("slack", credentials=custom_credentials("client-id", "1234"))]
    made, saved = _save(state, current)
    (action,) = made.actions
    assert action.values == {"credentials": {"type": "organization"}}
    assert saved.data["digests"][0]["secret"] is None
    assert _verify(saved, state, current).actions == made.actions


def test_a_secret_rotated_since_a_plan_that_did_not_send_it_is_named_as_such() -> None:
    _, saved = _save(_github_update(SECRET), GITHUB)
    rotated = _github_update("canary-plan-secret-9999")  # new last 4: now sent
    message = _stale(saved, state=rotated, current=GITHUB)
    assert message == "stale plan: the client secret of github (user) changed since the plan"
