"""The manifest's JSON Schema, generated from the ``Manifest`` model.

``schemas/manifest.schema.json`` is this module's output; regenerate it with
``python -m reconciler.schema > schemas/manifest.schema.json``.
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


def render_schema(schema: dict[str, Any]) -> str:
    """A schema as committed: 2-space indent, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_schema(manifest_schema()))
