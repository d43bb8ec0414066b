"""The manifest's JSON Schema, generated from the ``Manifest`` model, and the JSON
plan's, shipped in the package.

``schemas/manifest.schema.json`` is this module's output; regenerate it with
``python -m reconciler.schema > schemas/manifest.schema.json`` (``make schema``).
The JSON plan's schema is ``reconciler/plan.schema.json`` (package data, printed by
``reconciler schema --plan``); ``schemas/plan.schema.json`` is its copy, checked equal.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from reconciler.models import Manifest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of one manifest file."""
    schema = Manifest.model_json_schema()
    return {**schema, "$schema": SCHEMA_DIALECT}


def plan_schema_text() -> str:
    """The JSON plan's schema, as shipped in the package (``reconciler/plan.schema.json``)."""
    from importlib.resources import files

    return files("reconciler").joinpath(PLAN_SCHEMA).read_text(encoding="utf-8")


PLAN_SCHEMA = "plan.schema.json"


def render_schema(schema: dict[str, Any]) -> str:
    """A schema as committed: 2-space indent, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_schema(manifest_schema()))
