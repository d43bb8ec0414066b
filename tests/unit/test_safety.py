"""The safety rails (reconciler/safety.py) on plans made by the planner: what is refused,
the exact refusal, and how the manifest and the policy combine (the manifest only tightens)."""

from __future__ import annotations

import pytest

from reconciler.errors import Refusal, RefusalKind, UnsafePlanError
from reconciler.models import Settings
from reconciler.plan import ActionKind, Plan
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.safety import (
    MIN_MANAGED_FOR_THRESHOLD,
    check_safety,
    policy_warnings,
    refusals,
    with_refusals,
)
from tests.support.factories import desired, desired_state, remote


def safety_problems(
    result: Plan, settings: Settings, *, policy: Policy = DEFAULT_POLICY, force: bool = False
) -> list[str]:
    """The refusals' messages."""
    return [r.message for r in refusals(result, settings, policy=policy, force=force)]


def _pruning(existing: int, kept: int, **settings: object) -> tuple[Plan, Settings]:
    """A plan that prunes ``existing - kept`` of ``existing`` managed integrations."""
    entries = [desired(slug=f"app-{i:02d}", auth_methods=["api_key"]) for i in range(kept)]
    remotes = [remote(f"app-{i:02d}", auth_methods=["api_key"]) for i in range(existing)]
    state = desired_state(*entries, prune=True, **settings)
    return plan(state, remotes), state.settings


def _deleting(*identities: tuple[str, str]) -> tuple[Plan, Settings]:
    """A plan that deletes each of ``identities`` (pruned: not in the manifest)."""
    remotes = [remote(slug, ownership) for slug, ownership in identities]
    state = desired_state(prune=True)
    return plan(state, remotes), state.settings


def test_a_threshold_refusal_says_how_many_of_how_many_and_how_many_are_allowed() -> None:
    result, settings = _pruning(20, 13)
    assert safety_problems(result, settings) == [
        "refusing a plan that deletes or replaces 7 of 20 managed integrations (35%), "
        "over max_delete_fraction 0.3 (6 allowed). Review it, then pass --force to apply anyway."
    ]


def test_deleting_exactly_the_allowed_fraction_is_not_refused() -> None:
    result, settings = _pruning(20, 14)
    assert result.count(ActionKind.DELETE) == 6
    assert safety_problems(result, settings) == []


def test_the_threshold_applies_from_10_managed_integrations_on() -> None:
    result, settings = _pruning(10, 6)
    assert "deletes or replaces 4 of 10" in " ".join(safety_problems(result, settings))
    result, settings = _pruning(9, 0)
    assert result.count(ActionKind.DELETE) == 9
    assert safety_problems(result, settings) == []


def test_force_lifts_the_threshold_and_nothing_is_forced_by_default() -> None:
    result, settings = _pruning(10, 0)
    assert safety_problems(result, settings, force=True) == []
    with pytest.raises(UnsafePlanError, match="deletes or replaces 10 of 10"):
        check_safety(result, settings)
    check_safety(result, settings, force=True)


def test_the_manifest_may_lower_the_threshold_but_not_raise_it() -> None:
    lowered, settings = _pruning(10, 8, max_delete_fraction=0.1)
    assert "over max_delete_fraction 0.1 (1 allowed)" in safety_problems(lowered, settings)[0]
    raised, settings = _pruning(10, 6, max_delete_fraction=0.9)
    assert "over max_delete_fraction 0.3 (3 allowed)" in safety_problems(raised, settings)[0]
    strict = Policy(max_delete_fraction=0.5)
    raised, settings = _pruning(10, 4, max_delete_fraction=0.9)
    assert "over max_delete_fraction 0.5 (5 allowed)" in " ".join(
        safety_problems(raised, settings, policy=strict)
    )


def test_a_policy_protect_pattern_with_an_ownership_protects_that_ownership_only() -> None:
    result, settings = _deleting(("crm", "user"), ("crm", "organization"))
    policy = Policy(path="ci/policy.yaml", protect=("crm/organization",))
    assert safety_problems(result, settings, policy=policy) == [
        "refusing to delete or replace protected integrations: crm (organization) (delete). "
        "They have protect: true in the manifest or are protected by policy ci/policy.yaml; "
        "change that in a reviewed change first."
    ]
    user_only = Policy(protect=("crm/user",))
    (problem,) = safety_problems(result, settings, policy=user_only)
    assert "protected integrations: crm (user) (delete)." in problem


def test_protection_names_every_protected_action_and_leaves_updates_alone() -> None:
    state = desired_state(
        desired(slug="snowflake", auth_methods=["api_key"], protect=True),
        desired(slug="notion", description="new", protect=True),
        prune=True,
    )
    current = [
        remote("snowflake", credentials=None),  # api_key now: a replace
        remote("notion"),  # an update
        remote("legacy"),  # pruned
    ]
    result = plan(state, current)
    kinds = sorted(a.kind.value for a in result.actions)
    assert kinds == ["delete", "replace", "update"]
    policy = Policy(protect=("leg*",))
    (problem,) = safety_problems(result, state.settings, policy=policy)
    assert problem.startswith(
        "refusing to delete or replace protected integrations: "
        "snowflake (user) (replace), legacy (user) (delete). "
    )
    assert "notion" not in problem


def test_prune_is_refused_where_the_policy_forbids_it_and_allowed_by_default() -> None:
    result, settings = _deleting(("crm", "user"))
    assert safety_problems(result, settings) == []
    closed = Policy(path="ci/policy.yaml", allow_prune=False)
    assert safety_problems(result, settings, policy=closed, force=True) == [
        "refusing settings.prune: true: policy ci/policy.yaml does not allow prune "
        "(safety.allow_prune: false). Remove prune from the manifest."
    ]
    without_prune = desired_state(desired(slug="crm", description="x"))
    kept = plan(without_prune, [remote("crm")])
    assert safety_problems(kept, without_prune.settings, policy=closed) == []


def test_check_safety_raises_every_problem_at_once() -> None:
    result, settings = _pruning(10, 0)
    policy = Policy(path="p.yaml", allow_prune=False, protect=("app-00",))
    with pytest.raises(UnsafePlanError) as caught:
        check_safety(result, settings, policy=policy)
    message = str(caught.value)
    assert message.startswith("refusing to delete or replace protected integrations: app-00")
    assert " refusing settings.prune: true: policy p.yaml" in message
    assert " refusing a plan that deletes or replaces 10 of 10" in message
    kinds = [refusal.kind for refusal in caught.value.refusals]
    assert kinds == [RefusalKind.PROTECTED, RefusalKind.PRUNE, RefusalKind.TOO_MANY_DELETES]


def test_each_refusal_is_typed_with_the_integrations_it_is_about() -> None:
    result, settings = _pruning(10, 0)
    policy = Policy(path="p.yaml", allow_prune=False, protect=("app-00", "app-03"))
    protected, prune, threshold = refusals(result, settings, policy=policy)
    assert protected.kind is RefusalKind.PROTECTED
    assert protected.identities == (("app-00", "user"), ("app-03", "user"))
    assert str(protected) == protected.message
    assert prune == Refusal(RefusalKind.PRUNE, (), prune.message)
    assert threshold.kind is RefusalKind.TOO_MANY_DELETES
    assert threshold.identities == tuple((f"app-{i:02d}", "user") for i in range(10))


def test_the_threshold_minimum_is_named() -> None:
    result, settings = _pruning(MIN_MANAGED_FOR_THRESHOLD - 1, 0)
    assert refusals(result, settings) == []
    result, settings = _pruning(MIN_MANAGED_FOR_THRESHOLD, 0)
    (refusal,) = refusals(result, settings)
    assert refusal.kind is RefusalKind.TOO_MANY_DELETES


def test_a_manifest_threshold_above_the_policy_ceiling_is_a_warning() -> None:
    policy = Policy(path="ci/policy.yaml", max_delete_fraction=0.25)
    assert policy_warnings(Settings(max_delete_fraction=0.25), policy) == []
    assert policy_warnings(Settings(max_delete_fraction=0.2), policy) == []
    assert policy_warnings(Settings(max_delete_fraction=0.5), policy) == [
        "settings.max_delete_fraction 0.5 is above the ceiling 0.25 of policy ci/policy.yaml; "
        "0.25 is used"
    ]
    assert policy_warnings(Settings()) == []
    assert policy_warnings(Settings(max_delete_fraction=0.31)) == [
        "settings.max_delete_fraction 0.31 is above the ceiling 0.3 of the default policy; "
        "0.3 is used"
    ]


def test_refusals_join_the_plan_warnings_after_its_own() -> None:
    result = Plan(warnings=("first",))
    assert with_refusals(result, []) is result
    refused = with_refusals(result, ["no", "never"])
    assert refused.warnings == ("first", "no", "never")
    assert refused.actions == result.actions


def test_the_default_policy_is_the_one_named_in_refusals() -> None:
    result, settings = _deleting(("crm", "user"))
    closed_default = Policy(allow_prune=False)
    assert closed_default.name == DEFAULT_POLICY.name
    (problem,) = safety_problems(result, settings, policy=closed_default)
    assert "the default policy does not allow prune" in problem
