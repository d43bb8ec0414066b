"""The text and JSON renderers: a plan, and an apply's results; the Markdown plan beside them.

Renderers are pure: a ``Plan`` (or an ``ApplyResult``) in, a string out.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from reconciler.identity import Identity
from reconciler.plan import Action, ActionKind, Plan
from reconciler.plandocument import plan_document
from reconciler.planner import plan
from reconciler.render import (
    Target,
    render_apply_json,
    render_apply_summary,
    render_json,
    render_markdown,
    render_text,
)
from reconciler.results import ActionResult, ApplyResult, LeftState, Outcome
from tests.support.factories import desired, desired_state, remote, secret_ref

TARGET = Target("https://api.workos.com", "sk_…1234", ("integrations.yaml", "more.yaml"))
SECRET = "abcd-canary-9999"


def _mixed_plan() -> Plan:
    """One action of each kind, one integration unchanged; prune on."""
    entries = [
        desired(secret=SECRET, slug="github", credentials=secret_ref()),
        desired(slug="slack", description="new", scopes=["a", "c"]),
        desired(slug="snowflake", auth_methods=["api_key"], config={"account": "new"}),
        desired(slug="notion", description="same"),
    ]
    remotes = [
        remote("slack", description="old", scopes=["a", "b"]),
        remote("snowflake", credentials=None, auth_methods=["api_key"], config={"account": "a"}),
        remote("gone"),
        remote("notion", description="same"),
    ]
    return plan(desired_state(*entries, prune=True), remotes)


def _unmanaged_plan() -> Plan:
    entries = [desired(slug="notion", description="same")]
    remotes = [remote("notion", description="same"), remote("zoom", "organization")]
    return plan(desired_state(*entries), remotes)


def _action(made: Plan, slug: str) -> Action:
    return next(a for a in made.actions if a.slug == slug)


# --- render_text -------------------------------------------------------------------------


MIXED_TEXT = """\
Target:    https://api.workos.com (API key sk_…1234)
Manifests: integrations.yaml, more.yaml
Policy:    the default policy

reconciler will perform the following actions:

  -/+ snowflake (user) must be replaced (config cannot change in place; destroys all its \
connected accounts)
        description: null  # carried over
        enabled: false  # carried over
        scopes: null  # carried over
        auth_methods: ["api_key"]
      ~ config.account: "a" → "new"  # forces replacement

  - gone (user) will be deleted (not in the manifest (settings.prune is true); destroys all \
its connected accounts)
      - enabled: false
      - auth_methods: ["oauth"]
      - credentials.type: "organization"

  + github (user) will be created
      + credentials.type: "custom"
      + credentials.client_id: "client-id"
      + credentials.client_secret: (sensitive, ends …9999)

  ~ slack (user) will be updated in place
      ~ description: "old" → "new"
      ~ scopes:
          + "c"
          - "b"

Plan: 1 to replace, 1 to delete, 1 to create, 1 to update. 1 unchanged, 0 unmanaged.
"""


def test_text_shows_the_target_then_each_action_destructive_first() -> None:
    assert render_text(_mixed_plan(), target=TARGET) == MIXED_TEXT


def test_text_without_a_target_has_no_header() -> None:
    text = render_text(_mixed_plan())
    assert text == MIXED_TEXT.split("\n\n", 1)[1]
    assert "Target:" not in text


def test_text_never_shows_a_secret_only_its_last_4() -> None:
    text = render_text(_mixed_plan(), target=TARGET)
    assert SECRET not in text
    assert SECRET[:-4] not in text
    assert "(sensitive, ends …9999)" in text


def test_text_of_no_changes_says_so_and_lists_the_unmanaged() -> None:
    assert render_text(_unmanaged_plan()) == (
        "No changes. The remote integrations match the manifest.\n"
        "\n"
        "Unmanaged (in WorkOS but not in the manifest; left alone):\n"
        "  ? zoom (organization)\n"
        "\n"
        "Plan: 0 to replace, 0 to delete, 0 to create, 0 to update. 1 unchanged, 1 unmanaged.\n"
    )


def test_text_puts_warnings_first() -> None:
    warned = dataclasses.replace(_unmanaged_plan(), warnings=("first warning", "second"))
    lines = render_text(warned).splitlines()
    assert lines[:3] == ["Warning: first warning", "Warning: second", ""]


def test_text_in_colour_styles_and_without_colour_does_not() -> None:
    made = _mixed_plan()
    plain = render_text(made, color=False)
    coloured = render_text(made, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert _strip_ansi(coloured) == plain


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_text_escapes_an_untrusted_slug_and_warning() -> None:
    hostile = dataclasses.replace(
        _unmanaged_plan(),
        unmanaged=(Identity("evil\n::error::x", "user"),),
        warnings=("line\r\nforged \x1b[2J",),
    )
    text = render_text(hostile)
    assert "\n::error" not in text
    assert "\x1b[2J" not in text
    assert "  ? evil\\n::error::x (user)" in text.splitlines()
    assert "Warning: line\\r\\nforged \\x1b[2J" in text.splitlines()


# --- render_json -------------------------------------------------------------------------


def test_json_is_the_plan_dict_plus_the_target() -> None:
    made = _mixed_plan()
    document = json.loads(render_json(made, target=TARGET))
    assert document == {
        **plan_document(made).data(),
        "target": {
            "api_url": "https://api.workos.com",
            "api_key": "sk_…1234",
            "files": ["integrations.yaml", "more.yaml"],
            "policy": "the default policy",
        },
    }


def test_json_without_a_target_has_no_target_key() -> None:
    made = _mixed_plan()
    assert json.loads(render_json(made)) == plan_document(made).data()


def test_json_keys_summary_and_change_order() -> None:
    document = json.loads(render_json(_mixed_plan()))
    assert document["format_version"] == 1
    assert document["summary"] == {
        "create": 1,
        "delete": 1,
        "replace": 1,
        "update": 1,
        "unchanged": 1,
        "adopted": 0,
        "unmanaged": 0,
    }
    assert [(c["action"], c["slug"]) for c in document["changes"]] == [
        ("replace", "snowflake"),
        ("delete", "gone"),
        ("create", "github"),
        ("update", "slack"),
    ]
    destroys = {c["slug"]: c["destroys_connected_accounts"] for c in document["changes"]}
    assert destroys == {"snowflake": True, "gone": True, "github": False, "slack": False}


def test_json_lists_a_sets_added_and_removed_elements() -> None:
    document = json.loads(render_json(_mixed_plan()))
    slack = next(c for c in document["changes"] if c["slug"] == "slack")
    scopes = next(f for f in slack["fields"] if f["path"] == "scopes")
    assert (scopes["added"], scopes["removed"]) == (["c"], ["b"])
    assert (scopes["before"], scopes["after"]) == (["a", "b"], ["a", "c"])


def test_json_is_sorted_indented_stable_and_ends_with_a_newline() -> None:
    text = render_json(_mixed_plan(), target=TARGET)
    assert text == render_json(_mixed_plan(), target=TARGET)
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_json_never_holds_a_secret() -> None:
    text = render_json(_mixed_plan())
    assert SECRET not in text
    github = next(c for c in json.loads(text)["changes"] if c["slug"] == "github")
    secret = next(f for f in github["fields"] if f["path"] == "credentials.client_secret")
    assert secret == {
        "path": "credentials.client_secret",
        "before": None,
        "after": "(sensitive, ends …9999)",
        "sensitive": True,
    }


def test_json_is_safe_to_print_and_means_the_same() -> None:
    hostile = dataclasses.replace(
        _unmanaged_plan(), warnings=("bidi \u202e and escape \x1b[2J and ::error::x",)
    )
    text = render_json(hostile)
    assert "\u202e" not in text and "\x1b" not in text
    assert json.loads(text)["warnings"] == ["bidi \u202e and escape \x1b[2J and ::error::x"]


# --- render_apply_summary and render_apply_json ------------------------------------------


def _results(made: Plan) -> ApplyResult:
    return ApplyResult(
        (
            ActionResult(
                _action(made, "snowflake"),
                Outcome.FAILED,
                0.5,
                "API error 422: no",
                LeftState.DELETED,
            ),
            ActionResult(_action(made, "github"), Outcome.SUCCEEDED, 0.12345),
            ActionResult(_action(made, "slack"), Outcome.FAILED, 1.0, "API error 500: boom"),
            ActionResult(_action(made, "gone"), Outcome.SKIPPED, 0.0),
        ),
        stopped=True,
    )


def test_the_apply_summary_counts_and_names_what_failed_replaces_left() -> None:
    assert render_apply_summary(_results(_mixed_plan())).splitlines() == [
        "Apply stopped: 1 succeeded, 2 failed, 1 skipped.",
        "  replace snowflake (user): DELETED and not recreated; fix and re-run",
    ]


def test_a_complete_apply_says_complete() -> None:
    made = _mixed_plan()
    result = ApplyResult(tuple(ActionResult(a, Outcome.SUCCEEDED, 0.1) for a in made.actions))
    assert render_apply_summary(result) == "Apply complete: 4 succeeded, 0 failed, 0 skipped."


@pytest.mark.parametrize(
    ("state", "phrase"),
    [
        (LeftState.RESTORED, "restored as a new integration"),
        (LeftState.DELETED, "DELETED and not recreated; fix and re-run"),
        (LeftState.UNKNOWN, "whether the re-create took effect is unknown: run plan to see"),
    ],
)
def test_each_state_a_failed_replace_leaves_is_summarised(state: LeftState, phrase: str) -> None:
    made = _mixed_plan()
    failed = ActionResult(_action(made, "snowflake"), Outcome.FAILED, 1.0, "API error", state)
    lines = render_apply_summary(ApplyResult((failed,))).splitlines()
    assert lines[0] == "Apply complete: 0 succeeded, 1 failed, 0 skipped."
    assert lines[1].startswith("  replace snowflake (user): ")
    assert phrase in lines[1]


def test_the_apply_summary_in_colour_styles_and_without_does_not() -> None:
    result = _results(_mixed_plan())
    assert "\x1b[" not in render_apply_summary(result)
    coloured = render_apply_summary(result, color=True)
    assert "\x1b[" in coloured
    assert _strip_ansi(coloured) == render_apply_summary(result)


def test_apply_json_is_the_plan_plus_a_result_per_action() -> None:
    made = _mixed_plan()
    document = json.loads(render_apply_json(made, _results(made)))
    results: list[dict[str, Any]] = document.pop("results")
    assert document == plan_document(made).data()
    assert results == [
        {
            "action": "replace",
            "slug": "snowflake",
            "ownership": "user",
            "outcome": "failed",
            "error": "API error 422: no",
            "duration": 0.5,
            "state": "deleted",
        },
        {
            "action": "create",
            "slug": "github",
            "ownership": "user",
            "outcome": "succeeded",
            "error": None,
            "duration": 0.123,
        },
        {
            "action": "update",
            "slug": "slack",
            "ownership": "user",
            "outcome": "failed",
            "error": "API error 500: boom",
            "duration": 1.0,
        },
        {
            "action": "delete",
            "slug": "gone",
            "ownership": "user",
            "outcome": "skipped",
            "error": None,
            "duration": 0.0,
        },
    ]


def test_apply_json_escapes_an_api_message_and_keeps_its_meaning() -> None:
    made = _mixed_plan()
    message = "rejected\n::error::pwned \x1b[2J \u202e"
    result = ApplyResult((ActionResult(_action(made, "slack"), Outcome.FAILED, 0.2, message),))
    text = render_apply_json(made, result)
    assert "\x1b" not in text and "\u202e" not in text
    assert json.loads(text)["results"][0]["error"] == message


# --- the formats agree -------------------------------------------------------------------


def test_text_json_and_markdown_agree_on_the_counts() -> None:
    made = _mixed_plan()
    text = render_text(made)
    document = json.loads(render_json(made))
    markdown = render_markdown(made, target=TARGET)
    counts = document["summary"]
    assert (
        f"Plan: {counts['replace']} to replace, {counts['delete']} to delete, "
        f"{counts['create']} to create, {counts['update']} to update. "
        f"{counts['unchanged']} unchanged, {counts['unmanaged']} unmanaged."
    ) in text
    assert (
        "**Plan:** 1 to replace, 1 to delete, 1 to create, 1 to update, 1 unchanged, 0 unmanaged"
        in markdown
    )


def test_every_format_lists_the_actions_in_the_same_order() -> None:
    made = _mixed_plan()
    order = ["snowflake", "gone", "github", "slack"]
    assert [c["slug"] for c in json.loads(render_json(made))["changes"]] == order
    text = render_text(made)
    assert sorted(order, key=text.index) == order
    table = [line for line in render_markdown(made).splitlines() if line.startswith("| ")][2:]
    assert [line.split(" | ")[1].strip("`") for line in table] == order


def test_no_format_holds_the_secret() -> None:
    made = _mixed_plan()
    for rendered in (
        render_text(made, target=TARGET),
        render_json(made, target=TARGET),
        render_markdown(made, target=TARGET),
        render_apply_json(made, _results(made)),
        render_apply_summary(_results(made)),
    ):
        assert SECRET not in rendered
        assert SECRET[:-4] not in rendered


def test_the_destructive_kinds_are_the_replace_and_the_delete() -> None:
    made = _mixed_plan()
    destructive = {a.kind for a in made.actions if a.destructive}
    assert destructive == {ActionKind.REPLACE, ActionKind.DELETE}
    assert render_text(made).count("destroys all its connected accounts") == 2
