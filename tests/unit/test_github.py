"""GitHub Actions output: annotations escaped, unmanaged warnings, and the JSON plan schema.

Through the CLI: tests/cli/test_github_actions.py.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from reconciler.identity import Identity
from reconciler.plandocument import plan_document
from reconciler.render.github import annotation
from tests.support import REPO_ROOT

PLAN_SCHEMA = REPO_ROOT / "schemas" / "plan.schema.json"


def test_annotation_escaping() -> None:
    line = annotation("error", "50% bad\nnext", file="a,b:c.yaml", line=3, col=2)
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,col=2::50%25 bad%0Anext"
    assert annotation("warning", "plain") == "::warning::plain"


def test_schema_rejects_a_malformed_plan() -> None:
    schema = json.loads(PLAN_SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"format_version": 1, "summary": {}}, schema)


def test_every_action_kind_validates_against_the_schema() -> None:
    from tests.unit.test_markdown import _mixed_plan

    schema = json.loads(PLAN_SCHEMA.read_text())
    data = plan_document(_mixed_plan()).data()
    assert {c["action"] for c in data["changes"]} == {"create", "update", "replace", "delete"}
    jsonschema.validate(data, schema)
    replace = next(c for c in data["changes"] if c["action"] == "replace")
    assert replace["destroys_connected_accounts"] is True
    assert [f["path"] for f in replace["fields"] if f.get("forces_replacement")] == [
        "config.account"
    ]


def test_annotations_escape_bidi_and_controls_in_message_and_properties() -> None:
    line = annotation(
        "error", "x\u202ey\x1b[2J ##[warning]z", file="a\u2066\n.yaml", title="t\u200e"
    )
    assert line == (
        "::error file=a\\u2066%0A.yaml,title=t\\u200e::x\\u202ey\\x1b[2J ##\\x5bwarning]z"
    )


def test_unmanaged_slugs_from_the_api_cannot_break_out_of_their_annotation() -> None:
    from reconciler.plan import Plan
    from reconciler.render.github import unmanaged_annotations

    lines = unmanaged_annotations(Plan(unmanaged=(Identity("evil\n::error::pwned\u202e", "user"),)))
    assert len(lines) == 1
    assert lines[0].startswith(
        "::warning title=unmanaged integration::evil%0A::error::pwned\\u202e (user) exists"
    )
