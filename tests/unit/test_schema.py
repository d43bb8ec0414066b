"""The committed manifest JSON Schema is generated from the models, and fresh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reconciler.schema import SCHEMA_DIALECT, manifest_schema, render_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"
REGENERATE = "python -m reconciler.schema > schemas/manifest.schema.json"


def test_committed_schema_is_fresh() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(committed) == manifest_schema(), f"stale schema: run {REGENERATE}"
    assert committed == render_schema(manifest_schema()), f"not in canonical form: run {REGENERATE}"


def test_schema_is_deterministic_and_self_describing() -> None:
    schema = manifest_schema()
    assert schema == manifest_schema()
    assert schema["$schema"] == SCHEMA_DIALECT
    assert schema["title"] == "reconciler manifest"
    assert schema["required"] == ["version"]
    assert schema["properties"]["version"]["const"] == 1
    assert schema["additionalProperties"] is False


def test_schema_says_what_the_loader_checks() -> None:
    definitions = manifest_schema()["$defs"]
    integration = definitions["Integration"]["properties"]
    assert integration["credentials"] == {"$ref": "#/$defs/Credentials"}
    assert {"type": "null"} in integration["description"]["anyOf"]
    secret = definitions["Credentials"]["properties"]["client_secret"]
    assert secret["type"] == "string" and secret["pattern"].startswith("^\\$\\{(env|file)")
    assert definitions["CustomProvider"]["properties"]["token_url"]["pattern"] == "^https://"


def test_module_prints_the_schema() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "reconciler.schema"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == render_schema(manifest_schema())
