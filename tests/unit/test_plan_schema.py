"""The JSON plan's schema ships in the package, equal to schemas/plan.schema.json, and
`reconciler schema --plan` prints it."""

from __future__ import annotations

import json

from reconciler.schema import plan_schema_text
from tests.support import REPO_ROOT, invoke

COMMITTED = REPO_ROOT / "schemas" / "plan.schema.json"
PACKAGED = REPO_ROOT / "reconciler" / "plan.schema.json"


def test_the_packaged_plan_schema_is_the_committed_one() -> None:
    assert PACKAGED.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "edit schemas/plan.schema.json and copy it to reconciler/plan.schema.json"
    )
    assert plan_schema_text() == COMMITTED.read_text(encoding="utf-8")
    schema = json.loads(plan_schema_text())
    assert {"adopted", "saved"} <= set(schema["properties"])


def test_schema_plan_prints_it() -> None:
    result = invoke(None, "schema", "--plan")
    assert result.exit_code == 0, result.output
    assert result.output == COMMITTED.read_text(encoding="utf-8")
    manifest = invoke(None, "schema")
    assert json.loads(manifest.output)["title"] == "reconciler manifest"
