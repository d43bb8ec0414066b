"""The JSON Schemas the tool publishes, generated from its models.

- the manifest's, from ``reconciler.models.Manifest``: ``schemas/manifest.schema.json``;
- the JSON plan's (``plan``/``apply``/``show --format json``), from
  ``reconciler.plandocument.PlanDocument``: ``schemas/plan.schema.json``.

Regenerate both with ``make schema`` (``python -m reconciler.schema`` and
``python -m reconciler.schema --plan``); tests keep the committed files equal
to what the models generate.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from reconciler.models import Manifest
from reconciler.plandocument import SCHEMA_DIALECT as SCHEMA_DIALECT
from reconciler.plandocument import plan_schema as plan_schema


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of one manifest file."""
    schema = Manifest.model_json_schema()
    return {**schema, "$schema": SCHEMA_DIALECT}


def render_schema(schema: dict[str, Any]) -> str:
    """A schema as committed: 2-space indent, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    chosen = plan_schema() if sys.argv[1:] == ["--plan"] else manifest_schema()
    sys.stdout.write(render_schema(chosen))
