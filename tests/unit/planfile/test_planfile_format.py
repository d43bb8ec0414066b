"""Saved plans (reconciler/planfile.py): dump, read and verify; what the file records
(and never holds), its format, paths and targets, and plans made without secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import RefusedError, StalePlanError
from reconciler.models import Desired
from reconciler.plan import ActionKind
from reconciler.plandocument import plan_document
from reconciler.planfile import (
    FILE_KIND,
    FILE_VERSION,
    check_binding,
    dump,
    read,
)
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY
from tests.support.factories import (
    desired,
    desired_state,
    remote,
)
from tests.support.planfile import (
    API_KEY,
    API_URL,
    SECRET,
    _desired,
    _remote,
    _save,
    _verify,
)

# --- the round trip ----------------------------------------------------------------------


def test_a_saved_plan_verifies_to_exactly_its_actions() -> None:
    made, saved = _save()
    assert [a.kind for a in made.actions] == [ActionKind.CREATE, ActionKind.UPDATE]
    checked = _verify(saved)
    assert checked.actions == made.actions
    assert plan_document(checked).data() == plan_document(made).data()
    assert saved.files == ["integrations.yaml"]
    assert [(c["action"], c["slug"]) for c in saved.changes] == [
        ("create", "github"),
        ("update", "slack"),
    ]


def test_the_file_records_kind_version_target_and_remote_snapshots() -> None:
    _, saved = _save()
    data = saved.data
    assert (data["kind"], data["version"]) == (FILE_KIND, FILE_VERSION) == (FILE_KIND, 3)
    assert data["api_url"] == API_URL
    assert data["policy"] == {"name": "the default policy", "sha256": DEFAULT_POLICY.fingerprint}
    update = saved.changes[1]
    slack = remote("slack", description="old")
    assert update["remote"] == {"id": slack.id, "updated_at": slack.updated_at}
    assert "remote" not in saved.changes[0]


def test_rotate_secrets_is_recorded() -> None:
    assert _save(rotate_secrets=True)[1].rotate_secrets is True
    assert _save(rotate_secrets=False)[1].rotate_secrets is False


def test_the_file_holds_neither_the_secret_nor_the_api_key() -> None:
    _save()
    text = Path("plan.json").read_text()
    for canary in (SECRET, API_KEY, API_KEY.removeprefix("sk_test_")):
        assert canary not in text
    github = json.loads(text)["digests"][0]
    assert github["secret"] is not None and SECRET not in github["secret"]


def test_each_dump_has_its_own_salt_and_digests() -> None:
    _, first = _save()
    _, second = _save()
    assert first.data["salt"] != second.data["salt"]
    assert first.data["api_key_fingerprint"] != second.data["api_key_fingerprint"]
    assert first.data["digests"] != second.data["digests"]
    assert _verify(second).actions == _verify(first).actions


def test_a_plan_without_changes_round_trips() -> None:
    state = desired_state(desired(slug="slack", description="same"))
    made, saved = _save(state, [remote("slack", description="same")])
    assert made.actions == ()
    assert saved.changes == []
    assert _verify(saved, state, [remote("slack", description="same")]).actions == ()


# --- what the file records, exactly --------------------------------------------------------


def test_the_file_is_sorted_two_space_json_with_characters_as_written() -> None:
    _save(_desired(slack="café ☕ notes"))
    text = Path("plan.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "café ☕ notes" in text  # not \u00e9: a reviewer reads it as written


def test_the_targets_a_plan_was_made_with_are_read_back() -> None:
    state = _desired()
    made = plan(state, _remote())
    text = dump(
        made, state, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY, targets=["git*"]
    )
    Path("plan.json").write_text(text)
    assert read("plan.json").targets == ("git*",)
    assert read("plan.json").rotate_secrets is False  # not asked for: not recorded as made so
    _save()
    assert read("plan.json").targets == ()
    data = json.loads(Path("plan.json").read_text())
    del data["targets"]  # a file from before --target: the whole manifest
    Path("plan.json").write_text(json.dumps(data))
    assert read("plan.json").targets == ()


def test_paths_are_recorded_relative_to_where_plan_ran_wherever_the_file_goes() -> None:
    state = _desired()
    made = plan(state, _remote())
    Path("out").mkdir()
    text = dump(made, state, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY)
    Path("out/plan.json").write_text(text)
    saved = read("out/plan.json")
    assert saved.names == saved.files == ["integrations.yaml"]  # not ../integrations.yaml
    assert _verify(saved).actions == made.actions


def test_an_absolute_manifest_path_is_recorded_relative_to_where_plan_ran() -> None:
    state = Desired(
        _desired().integrations, _desired().settings, files=(str(Path.cwd() / "integrations.yaml"),)
    )
    made = plan(state, _remote())
    Path("plan.json").write_text(
        dump(made, state, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY)
    )
    assert read("plan.json").names == ["integrations.yaml"]


# --- made without secrets ---------------------------------------------------------------


def test_no_secrets_is_recorded_and_defaults_to_false() -> None:
    state = _desired()
    made = plan(state, _remote())
    for given in (True, False):
        text = dump(
            made, state, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY, no_secrets=given
        )
        assert json.loads(text)["no_secrets"] is given
    assert _save()[1].no_secrets is False
    data = json.loads(Path("plan.json").read_text())
    del data["no_secrets"]
    Path("plan.json").write_text(json.dumps(data))
    assert read("plan.json").no_secrets is False


def test_a_plan_made_without_secrets_is_refused_before_anything_else() -> None:
    state = _desired()
    made = plan(state, _remote())
    text = dump(
        made, state, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY, no_secrets=True
    )
    Path("plan.json").write_text(text)
    saved = read("plan.json")
    with pytest.raises(RefusedError) as caught:
        check_binding(saved, api_url="https://elsewhere", api_key="other", policy=DEFAULT_POLICY)
    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        "this plan was made without secrets (plan --no-secrets); "
        "make it again without --no-secrets to apply it"
    )
    with pytest.raises(RefusedError, match="made without secrets"):
        _verify(saved)


def test_the_binding_is_checked_without_the_manifest() -> None:
    _, saved = _save()
    Path("integrations.yaml").unlink()  # check_binding reads no manifest
    check_binding(saved, api_url=API_URL, api_key=API_KEY, policy=DEFAULT_POLICY)
    with pytest.raises(StalePlanError, match="another API key"):
        check_binding(saved, api_url=API_URL, api_key="sk_test_other", policy=DEFAULT_POLICY)
