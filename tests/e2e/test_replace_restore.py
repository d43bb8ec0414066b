"""A replace whose re-create fails is restored or reported DELETED, in text and JSON,
with no secret in a message and recoverable from the output alone.

The emulator refuses a config key snowflake does not declare (422), which makes
a realistic failing re-create: the planner does not refuse it offline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from textwrap import indent
from typing import Any

import httpx
import jsonschema
import yaml

from reconciler.applier import apply_plan
from reconciler.emulator.app import create_app
from reconciler.models import Desired
from reconciler.render import (
    render_apply_json,
    render_apply_markdown,
    render_apply_summary,
    render_result_line,
)
from reconciler.results import ApplyResult, LeftState, Outcome
from tests.support import CANARY_SECRET, faulty_client, invoke, run, stats
from tests.support.factories import CUSTOM_PROVIDER_DEFAULTS, desired, desired_state
from tests.support.faults import REFUSED, OneWriteFails
from tests.support.refusals import RefusesCreates
from tests.support.replace import (
    ORGANIZATION,
    REQUEST_ID,
    SNOWFLAKE,
    _apply,
    _get,
    _list_and_plan,
    _plan,
)

SCHEMA = json.loads(Path("schemas/plan.schema.json").read_text())
REFUSED_CONFIG = (
    re.escape(
        "API error 422 (validation_error): config: unknown key(s) for snowflake: warehouse "
        "(allowed: account) (config.warehouse: allowed: account)"
    )
    + REQUEST_ID
)
RESTORED = (
    "restored as a new integration (new id and redirect URI; its connected accounts are gone)"
)


def _custom(client_id: str) -> dict[str, Any]:
    return {"type": "custom", "client_id": client_id, "client_secret": "${env:SECRET}"}


def _refused_config(**fields: Any) -> Desired:
    """A manifest whose snowflake config gains a key the emulator refuses: replace, then 422."""
    return desired_state(
        desired(slug="snowflake", config={"account": "acct", "warehouse": "wh"}, **fields)
    )


def test_a_failed_recreate_is_restored_and_reported_in_text_and_json() -> None:
    app = create_app(seed=[{**SNOWFLAKE, "credentials": ORGANIZATION}])
    made, old = run(_plan(app, _refused_config()))

    result = run(_apply(app, made))

    (replaced,) = result.results
    assert (replaced.outcome, replaced.state) == (Outcome.FAILED, LeftState.RESTORED)
    assert replaced.error is not None
    assert re.fullmatch(
        re.escape("the re-create failed: ") + REFUSED_CONFIG + re.escape(f"; {RESTORED}"),
        replaced.error,
    )
    now = run(_get(app))
    assert now is not None and now.id != old.id and now.redirect_uri != old.redirect_uri
    kept = ("description", "enabled", "scopes", "auth_methods", "config", "credentials")
    assert {k: getattr(now, k) for k in kept} == {k: getattr(old, k) for k in kept}

    line = render_result_line(replaced)
    assert line.startswith("FAILED replace snowflake (user) in ")
    assert line.endswith(f"; {RESTORED}")
    assert render_apply_summary(result).splitlines() == [
        "Apply complete: 0 succeeded, 1 failed, 0 skipped.",
        f"  replace snowflake (user): {RESTORED}",
    ]
    document = json.loads(render_apply_json(made, result))
    jsonschema.validate(document, SCHEMA)
    (entry,) = document["results"]
    assert (entry["outcome"], entry["state"]) == ("failed", "restored")
    assert entry["error"] == replaced.error


def test_custom_credentials_are_restored_under_the_same_client_id_with_the_manifests_secret() -> (
    None
):
    seeded = {"type": "custom", "client_id": "app-1", "client_secret": "old-secret-0000"}
    app = create_app(seed=[{**SNOWFLAKE, "credentials": seeded}])
    state = desired_state(
        desired(
            secret="new-secret-9876",
            slug="snowflake",
            config={"account": "acct", "warehouse": "wh"},
            credentials=_custom("app-1"),
        )
    )
    made, _ = run(_plan(app, state))

    (replaced,) = run(_apply(app, made, secrets=state.secrets())).results

    assert replaced.state is LeftState.RESTORED
    now = run(_get(app))
    assert now is not None and now.credentials is not None
    assert (now.credentials.type, now.credentials.client_id) == ("custom", "app-1")
    assert now.credentials.redacted_client_secret == "9876"  # the manifest's, never the old one


def test_custom_credentials_of_another_client_id_are_not_restored_and_it_is_reported_deleted() -> (
    None
):
    seeded = {"type": "custom", "client_id": "old-app", "client_secret": "old-secret-0000"}
    app = create_app(seed=[{**SNOWFLAKE, "credentials": seeded}])
    state = desired_state(
        desired(
            secret="new-secret-9876",
            slug="snowflake",
            config={"account": "acct", "warehouse": "wh"},
            credentials=_custom("new-app"),
        )
    )
    made, _ = run(_plan(app, state))

    result = run(_apply(app, made, secrets=state.secrets()))

    (replaced,) = result.results
    assert (replaced.outcome, replaced.state) == (Outcome.FAILED, LeftState.DELETED)
    assert replaced.error is not None
    assert re.fullmatch(
        re.escape("DELETED and not recreated: the re-create failed: ")
        + REFUSED_CONFIG
        + re.escape(
            "; not restored: its custom credentials can't be restored faithfully (the API never"
            " returns a client secret, and the manifest's client_id is not the old one);"
            " fix and re-run"
        ),
        replaced.error,
    )
    assert run(_get(app)) is None
    assert run(stats(app))["by_method"]["POST"] == 1  # no restore was even tried
    assert render_apply_summary(result).splitlines()[1:3] == [
        "  replace snowflake (user): DELETED and not recreated; fix and re-run",
        "    snowflake (user) was deleted and may not exist any more (run plan to see). To "
        "create it again as it was (every field the manifest leaves out included), put this "
        "entry in the manifest in place of the one for snowflake (user), then run apply; to "
        "keep the manifest's changes, copy only the fields it leaves out. Set "
        "RECONCILER_SNOWFLAKE_CLIENT_SECRET to its client secret first (it ends …0000).",
    ]
    assert "FAILED replace snowflake (user) in " in render_result_line(replaced)
    document = json.loads(render_apply_json(made, result))
    jsonschema.validate(document, SCHEMA)
    assert document["results"][0]["state"] == "deleted"


def test_the_command_line_exits_1_and_says_restored_in_text_and_json(tmp_path: Path) -> None:
    app = create_app(seed=[{**SNOWFLAKE, "credentials": ORGANIZATION}])
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(  # an account WorkOS refuses: no rule the tool can check first
        "version: 1\nintegrations:\n  - slug: snowflake\n    config: {account: gone}\n"
    )
    refusing = RefusesCreates(httpx.ASGITransport(app=app), '"gone"')

    text = invoke(None, "apply", "-f", str(manifest), "--yes", transport=refusing)
    assert text.exit_code == 1, text.output
    assert f"  replace snowflake (user): {RESTORED}" in text.stdout
    assert re.search(
        r"FAILED replace snowflake \(user\) in [\d.]+s: the re-create failed: .*; "
        + re.escape(RESTORED),
        text.stdout,
    )

    again = invoke(
        None, "apply", "-f", str(manifest), "--yes", "--format", "json", transport=refusing
    )
    assert again.exit_code == 1, again.output
    document = json.loads(again.stdout)
    jsonschema.validate(document, SCHEMA)
    assert [(r["action"], r["outcome"], r["state"]) for r in document["results"]] == [
        ("replace", "failed", "restored")
    ]


def test_the_secret_sent_to_restore_is_never_in_a_message() -> None:
    seeded = {"type": "custom", "client_id": "app-1", "client_secret": "old-secret-0000"}
    app = create_app(seed=[{**SNOWFLAKE, "credentials": seeded}])
    state = desired_state(
        desired(
            secret=CANARY_SECRET,
            slug="snowflake",
            config={"account": "acct", "warehouse": "wh"},
            credentials=_custom("app-1"),
        )
    )
    made, _ = run(_plan(app, state))
    result = run(_apply(app, made, secrets=state.secrets()))
    assert result.results[0].state is LeftState.RESTORED
    assert CANARY_SECRET not in render_apply_json(made, result)


def test_a_replace_left_deleted_is_recoverable_from_the_output_alone(tmp_path: Path) -> None:
    """The re-create is refused, and the old custom credentials can't be restored (another
    client id): every format carries the deleted integration as a whole manifest entry,
    definition included, its secret as a reference; that entry alone brings it back."""
    definition = {
        "name": "Acme",
        "authorization_url": "https://acme.example/oauth/authorize",
        "token_url": "https://acme.example/oauth/token",
        "scopes_required": True,
    }
    seed = {
        "provider": "acme",
        "description": "kept",
        "scopes": ["read"],
        "custom_provider": definition,
        "credentials": {"type": "custom", "client_id": "old-app", "client_secret": "old-0000"},
    }
    refuse_the_recreate = OneWriteFails(2, REFUSED)  # write 1: the DELETE; 2: the POST
    app = create_app(seed=[seed], faults=refuse_the_recreate)
    state = desired_state(
        desired(
            secret=CANARY_SECRET,
            slug="acme",
            auth_methods=["oauth", "api_key"],
            credentials=_custom("new-app"),
        )
    )
    made = run(_list_and_plan(app, state))

    async def apply() -> ApplyResult:
        async with faulty_client(app, max_retries=1) as client:
            return await apply_plan(made, client, secrets=state.secrets())

    result = run(apply())
    (replaced,) = result.results
    assert replaced.state is LeftState.DELETED and replaced.recovery is not None
    (entry,) = yaml.safe_load(replaced.recovery.entry)
    assert entry == {
        "slug": "acme",
        "description": "kept",
        "enabled": False,
        "scopes": ["read"],
        "auth_methods": ["oauth"],
        "credentials": {
            "type": "custom",
            "client_id": "old-app",
            "client_secret": "${env:RECONCILER_ACME_CLIENT_SECRET}",
        },
        "config": {},
        "custom_provider": {**CUSTOM_PROVIDER_DEFAULTS, **definition},
    }
    assert replaced.recovery.how.endswith(
        "Set RECONCILER_ACME_CLIENT_SECRET to its client secret first (it ends …0000)."
    )
    text = render_apply_summary(result)
    document = json.loads(render_apply_json(made, result))
    jsonschema.validate(document, SCHEMA)
    markdown = render_apply_markdown(made, result)
    assert "      - slug: acme" in text and replaced.recovery.how in text
    assert document["results"][0]["recovery"] == {
        "manifest_entry": replaced.recovery.entry,
        "how": replaced.recovery.how,
    }
    assert "```yaml\n- slug: acme\n" in markdown
    for shown in (text, json.dumps(document), markdown):
        assert CANARY_SECRET not in shown

    refuse_the_recreate.active = False
    manifest = tmp_path / "restore.yaml"
    manifest.write_text("version: 1\nintegrations:\n" + indent(replaced.recovery.entry, "  "))
    restored = invoke(
        app, "apply", "-f", str(manifest), "--yes", RECONCILER_ACME_CLIENT_SECRET="old-0000"
    )
    assert restored.exit_code == 0, restored.output
    again = invoke(
        app,
        "plan",
        "-f",
        str(manifest),
        "--detailed-exitcode",
        RECONCILER_ACME_CLIENT_SECRET="old-0000",
    )
    assert again.exit_code == 0, again.output
    now = run(_get(app, "acme"))
    assert now is not None and now.description == "kept"
    assert now.custom_provider == {**CUSTOM_PROVIDER_DEFAULTS, **definition}
