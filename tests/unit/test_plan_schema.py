"""The JSON plan's schema is generated from the document's models: the committed
schemas/plan.schema.json is what they generate, `reconciler schema --plan` prints it,
and the documents the tool prints (every key that can appear) validate against it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from reconciler.plan import Action, ActionKind, FieldChange, Plan, Target, Targeting
from reconciler.plandocument import PlanDocument, plan_document
from reconciler.results import ActionResult, LeftState, Outcome, Recovery
from reconciler.schema import plan_schema, render_schema
from tests.support import REPO_ROOT, invoke
from tests.support.factories import remote

COMMITTED = REPO_ROOT / "schemas" / "plan.schema.json"
STALE = "schemas/plan.schema.json is stale: run `make schema` and commit it"


def test_the_committed_plan_schema_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_schema(plan_schema()), STALE


def test_schema_plan_prints_it() -> None:
    result = invoke(None, "schema", "--plan")
    assert result.exit_code == 0, result.output
    assert result.output == COMMITTED.read_text(encoding="utf-8")
    manifest = invoke(None, "schema")
    assert json.loads(manifest.output)["title"] == "reconciler manifest"


def _every_key() -> tuple[Plan, tuple[ActionResult, ...]]:
    """A plan and results that use every optional key of the document."""
    old = remote("acme", description="old")
    replace = Action(
        ActionKind.REPLACE,
        "acme",
        "user",
        (
            FieldChange("auth_methods", ["oauth"], ["api_key"], forces_replacement=True),
            FieldChange("scopes", ["a"], ["a", "b"], added=("b",), removed=()),
            FieldChange("description", "old", "old", carried_over=True),
            FieldChange("credentials.client_secret", "(sensitive, ends …abcd)", None, True),
        ),
        reason="auth_methods cannot change in place",
        remote=old,
    )
    create = Action(ActionKind.CREATE, "slack", "organization")
    plan = Plan(
        actions=(replace, create),
        unmanaged=(old.identity,),
        warnings=("a warning",),
        targeting=Targeting(("acme*",), (create.identity,)),
        secrets_compared=False,
    )
    results = (
        ActionResult(
            replace, Outcome.FAILED, 0.25, "boom", LeftState.DELETED, Recovery("- x", "how")
        ),
        ActionResult(create, Outcome.SUCCEEDED, 0.1),
    )
    return plan, results


def test_every_key_a_document_can_hold_is_in_the_schema_and_validates() -> None:
    plan, results = _every_key()
    target = Target("https://api.example", "sk_…abcd", ("a.yaml",), "policy p.yaml")
    validator = jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text()))
    for document in (plan_document(plan, target=target), plan_document(plan, results=results)):
        data = json.loads(document.text())
        validator.validate(data)
        assert PlanDocument.model_validate(data).data() == data
    applied = json.loads(plan_document(plan, results=results).text())
    assert applied["secrets_compared"] is False
    assert applied["results"][0]["recovery"] == {"manifest_entry": "- x", "how": "how"}
    assert set(applied["changes"][0]["fields"][0]) == {
        "path",
        "before",
        "after",
        "sensitive",
        "forces_replacement",
    }


@pytest.mark.parametrize(
    "broken",
    [
        {"secrets_compared": True},
        {"surprise": 1},
        {"changes": [{"action": "create", "slug": "x", "ownership": "team", "fields": []}]},
        {"summary": {"create": -1}},
    ],
)
def test_the_schema_refuses_what_the_tool_never_prints(broken: dict[str, object]) -> None:
    plan, _ = _every_key()
    data = {**json.loads(plan_document(plan).text()), **broken}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(COMMITTED.read_text()))
