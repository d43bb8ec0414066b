"""A map's change is one FieldChange per key, and each carries what happens to its key
(added, removed, changed): the renderers read it, not the dotted path, and the JSON
plan and a saved plan shown again keep it."""

from __future__ import annotations

import json

from reconciler.changes import diff
from reconciler.fields import Field, Kind, field
from reconciler.plan import Action, ActionKind, FieldChange, KeyAction, Plan
from reconciler.plandocument import PlanDocument, plan_document
from reconciler.render.diffs import Sign, row
from reconciler.show import plan_from_document


def _config_changes() -> list[FieldChange]:
    return diff(field("config"), {"gone": "1", "kept": "2"}, {"kept": "3", "new": "4"})


def test_each_key_of_a_map_says_whether_it_is_added_removed_or_changed() -> None:
    changes = _config_changes()
    assert [(c.path, c.key_action) for c in changes] == [
        ("config.gone", KeyAction.REMOVED),
        ("config.kept", KeyAction.CHANGED),
        ("config.new", KeyAction.ADDED),
    ]
    assert all(c.key_action is None for c in diff(field("scopes"), ["a"], ["b"]))
    assert all(c.key_action is None for c in diff(field("description"), "a", "b"))


def test_rows_follow_the_key_action_not_the_path_or_a_null() -> None:
    signs = [row(c, ActionKind.UPDATE).sign for c in _config_changes()]
    assert signs == [Sign.REMOVE, Sign.CHANGE, Sign.ADD]
    nested = Field(("custom_provider", "additional_authorization_parameters"), Kind.MAP)
    (added,) = diff(nested, {}, {"prompt": "consent"})
    assert row(added, ActionKind.UPDATE).sign is Sign.ADD
    # a dotted name that is not a map's key, set from null, is a change of its value
    plain = FieldChange("custom_provider.refresh_token_url", None, "https://x.example/r")
    assert row(plain, ActionKind.UPDATE).sign is Sign.CHANGE


def test_the_json_plan_and_a_saved_plan_shown_again_keep_the_key_action() -> None:
    action = Action(ActionKind.REPLACE, "snowflake", "user", tuple(_config_changes()))
    data = json.loads(plan_document(Plan(actions=(action,))).text())
    fields = data["changes"][0]["fields"]
    assert [f.get("key_action") for f in fields] == ["removed", "changed", "added"]
    shown = plan_from_document(PlanDocument.model_validate(data))
    assert shown.actions[0].fields == action.fields
