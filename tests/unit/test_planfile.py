"""Saved plans (reconciler/planfile.py): dump, read and verify, and every reason a saved plan
is refused: not a plan, another version, altered, or stale (manifest, key, policy, remote)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PlanFileError, RefusedError, StalePlanError
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import ActionKind, Plan
from reconciler.planfile import (
    FILE_KIND,
    FILE_VERSION,
    SavedPlan,
    check_binding,
    dump,
    read,
    verify,
)
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from tests.support.factories import (
    custom_credentials,
    desired,
    desired_state,
    remote,
    secret_ref,
)

API_URL = "https://api.workos.com"
API_KEY = "sk_test_planfile-key-Vb71"
SECRET = "canary-plan-secret-1234"
MANIFEST = "version: 1\nintegrations: []  # the digest is of these bytes, not their meaning\n"


def _desired(secret: str = SECRET, slack: str = "new description") -> Desired:
    return desired_state(
        desired(secret=secret, slug="github", credentials=secret_ref()),
        desired(slug="slack", description=slack, credentials={"type": "organization"}),
    )


def _remote(**slack: Any) -> list[RemoteIntegration]:
    return [remote("slack", description="old"), remote("notion", **slack)]


@pytest.fixture(autouse=True)
def manifest_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``integrations.yaml`` (the file the factories' Desired names) in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = Path("integrations.yaml")
    path.write_text(MANIFEST)
    return path


def _save(
    state: Desired | None = None,
    current: list[RemoteIntegration] | None = None,
    *,
    rotate_secrets: bool = False,
) -> tuple[Plan, SavedPlan]:
    state = state or _desired()
    made = plan(state, current if current is not None else _remote())
    text = dump(
        made,
        state,
        api_url=API_URL,
        api_key=API_KEY,
        policy=DEFAULT_POLICY,
        rotate_secrets=rotate_secrets,
    )
    Path("plan.json").write_text(text)
    return made, read("plan.json")


def _verify(
    saved: SavedPlan,
    state: Desired | None = None,
    current: list[RemoteIntegration] | None = None,
    *,
    api_url: str = API_URL,
    api_key: str = API_KEY,
    policy: Policy = DEFAULT_POLICY,
) -> Plan:
    state = state or _desired()
    current = current if current is not None else _remote()
    fresh = plan(state, current)
    return verify(saved, state, current, fresh, api_url=api_url, api_key=api_key, policy=policy)


def _stale(saved: SavedPlan, **world: Any) -> str:
    with pytest.raises(StalePlanError) as caught:
        _verify(saved, **world)
    return str(caught.value)


# --- the round trip ----------------------------------------------------------------------


def test_a_saved_plan_verifies_to_exactly_its_actions() -> None:
    made, saved = _save()
    assert [a.kind for a in made.actions] == [ActionKind.CREATE, ActionKind.UPDATE]
    checked = _verify(saved)
    assert checked.actions == made.actions
    assert checked.to_dict() == made.to_dict()
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


# --- read: anything that is not a saved plan of this version ----------------------------


def _refused(path: str) -> str:
    with pytest.raises(PlanFileError) as caught:
        read(path)
    assert caught.value.subject == "saved plan"
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (path, 0, 0)  # the whole file
    assert str(caught.value).startswith(f"{path}: ")
    return str(caught.value)


def test_a_missing_file_is_named() -> None:
    assert _refused("nowhere.json") == "nowhere.json: no such plan file"


def test_a_file_that_is_not_json_is_refused() -> None:
    Path("plan.json").write_text("version: 1\nintegrations: []\n")
    assert "not a saved plan (JSONDecodeError)" in _refused("plan.json")


def test_a_file_that_is_not_utf8_is_refused() -> None:
    Path("plan.json").write_bytes(b'{"kind": "\xff\xfe"}')
    assert "not a saved plan (UnicodeDecodeError)" in _refused("plan.json")


def test_a_path_that_cannot_be_read_as_a_file_is_refused() -> None:
    Path("plan.json").mkdir()
    assert "not a saved plan (" in _refused("plan.json")


@pytest.mark.parametrize(
    "content",
    [[], "a string", 42, None, {}, {"kind": "terraform-plan", "version": 2}],
    ids=["list", "string", "number", "null", "empty", "other-kind"],
)
def test_json_that_is_not_a_saved_plan_is_refused(content: Any) -> None:
    Path("plan.json").write_text(json.dumps(content))
    assert "not a saved plan made by `reconciler plan --out`" in _refused("plan.json")


@pytest.mark.parametrize("version", [1, 2, "3", None])
def test_another_version_is_refused_with_make_the_plan_again(version: Any) -> None:
    _save()
    data = json.loads(Path("plan.json").read_text())
    data["version"] = version
    Path("plan.json").write_text(json.dumps(data))
    message = _refused("plan.json")
    assert f"unsupported saved-plan version {version!r}" in message
    assert "make the plan again" in message


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key)


def _set(value: Any, *keys: str | int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


ALTERATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    **{
        f"no-{key}": _drop(key)
        for key in (
            "api_url",
            "api_key_fingerprint",
            "salt",
            "rotate_secrets",
            "policy",
            "digests",
            "manifest",
            "plan",
        )
    },
    "salt-not-hex": _set("not hex", "salt"),
    "salt-odd-length": _set("abc", "salt"),
    "an-unknown-key": _set(True, "applied"),
    "no-secrets-not-bool": _set("no", "no_secrets"),
    "an-absolute-manifest-path": _set(["/etc/passwd"], "manifest", "files"),
    "a-drive-manifest-path": _set(["C:/x.yaml"], "manifest", "files"),
    "an-empty-manifest-path": _set([""], "manifest", "files"),
    "a-digest-with-an-unknown-key": _set("x", "digests", 0, "extra"),
    "remote-without-id": lambda data: data["plan"]["changes"][1]["remote"].pop("id"),
    "remote-id-not-a-string": _set(7, "plan", "changes", 1, "remote", "id"),
    "rotate-secrets-not-bool": _set("yes", "rotate_secrets"),
    "policy-without-sha256": _set({"name": "the default policy"}, "policy"),
    "files-not-a-list": _set("integrations.yaml", "manifest", "files"),
    "file-name-not-a-string": _set([1], "manifest", "files"),
    "manifest-without-sha256": _set({"files": ["integrations.yaml"]}, "manifest"),
    "changes-not-a-list": _set({}, "plan", "changes"),
    "a-digest-too-few": lambda data: data["digests"].pop(),
    "digest-not-a-string": _set(7, "digests", 0, "change"),
    "secret-digest-not-a-string": _set(7, "digests", 0, "secret"),
    "change-without-slug": lambda data: data["plan"]["changes"][0].pop("slug"),
    "change-with-bad-ownership": _set("team", "plan", "changes", 0, "ownership"),
    "remote-not-an-object": _set("id", "plan", "changes", 1, "remote"),
    "api-url-not-a-string": _set(1, "api_url"),
    "fingerprint-not-a-string": _set(None, "api_key_fingerprint"),
    "salt-not-a-string": _set(16, "salt"),
    "targets-not-a-list": _set("github", "targets"),
    "target-not-a-string": _set(["github", 1], "targets"),
    "policy-not-an-object": _set("the default policy", "policy"),
    "policy-name-not-a-string": _set(None, "policy", "name"),
    "digests-not-a-list": _set({}, "digests"),
    "manifest-not-an-object": _set([], "manifest"),
    "plan-not-an-object": _set([], "plan"),
    "plan-without-changes": lambda data: data["plan"].pop("changes"),
    "digest-not-an-object": _set("0" * 64, "digests", 0),
    "change-not-an-object": _set("create github", "plan", "changes", 0),
}


@pytest.mark.parametrize("alteration", sorted(ALTERATIONS))
def test_a_partly_malformed_file_is_refused_cleanly(alteration: str) -> None:
    _save()
    data = json.loads(Path("plan.json").read_text())
    ALTERATIONS[alteration](data)
    Path("plan.json").write_text(json.dumps(data))
    assert "its content is incomplete or altered" in _refused("plan.json")


# --- verify: every reason a plan is stale ------------------------------------------------


def test_manifest_bytes_changed_with_the_same_length_make_it_stale(manifest_file: Path) -> None:
    _, saved = _save()
    changed = MANIFEST.replace("digest", "DIGEST")
    assert len(changed) == len(MANIFEST) and changed != MANIFEST
    manifest_file.write_text(changed)
    assert _stale(saved) == "stale plan: the manifest changed since the plan was made"


def test_other_manifest_files_make_it_stale() -> None:
    _, saved = _save()
    Path("other.yaml").write_text(MANIFEST)
    state = _desired()
    other = Desired(integrations=state.integrations, settings=state.settings, files=("other.yaml",))
    message = _stale(saved, state=other)
    assert message == "stale plan: it was made from integrations.yaml, not other.yaml"


def test_another_api_key_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, api_key="sk_test_another-key-0000")
    assert "made with another API key" in message
    assert "make the plan again" in message


def test_another_api_url_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, api_url="https://api.example.test")
    assert message == f"stale plan: it was made for {API_URL}, not https://api.example.test"


def test_a_changed_policy_makes_it_stale() -> None:
    _, saved = _save()
    stricter = Policy(protect=("github",))
    assert stricter.name == DEFAULT_POLICY.name
    message = _stale(saved, policy=stricter)
    assert message == "stale plan: it was made under the default policy has changed"


def test_another_policy_file_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, policy=Policy(path="ci/policy.yaml", protect=("github",)))
    assert message == "stale plan: it was made under the default policy, not policy ci/policy.yaml"


def test_a_remote_changed_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    later = "2026-02-01T00:00:00.000Z"
    current = [remote("slack", description="old", updated_at=later)]
    message = _stale(saved, current=current)
    assert "slack (user) changed since the plan" in message
    assert f"→ {later}" in message


def test_a_remote_deleted_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    assert _stale(saved, current=[]) == "stale plan: slack (user) was deleted since the plan"


def test_a_remote_recreated_since_the_plan_makes_it_stale() -> None:
    _, saved = _save()
    old = remote("slack", description="old")
    current = [remote("slack", description="old", id="data_integration_NEW")]
    message = _stale(saved, current=current)
    assert message == (
        "stale plan: slack (user) was recreated since the plan "
        f"(id {old.id} → data_integration_NEW)"
    )


def test_a_remote_created_since_the_plan_makes_a_planned_create_stale() -> None:
    _, saved = _save()
    github = remote("github", id="data_integration_GH")
    message = _stale(saved, current=[*_remote(), github])
    assert "github (user) was created since the plan (id data_integration_GH)" in message


def test_another_client_secret_with_the_same_last_4_makes_it_stale() -> None:
    _, saved = _save()
    other = "another-plan-secret-1234"
    assert other[-4:] == SECRET[-4:]
    message = _stale(saved, state=_desired(secret=other))
    assert message == "stale plan: the client secret of github (user) changed since the plan"


def test_an_action_that_would_now_be_planned_differently_makes_it_stale() -> None:
    _, saved = _save()
    message = _stale(saved, state=_desired(slack="another description"))
    assert message == "stale plan: slack (user) would now be planned differently"


def test_every_stale_change_is_named_at_once() -> None:
    _, saved = _save()
    github = remote("github", id="data_integration_GH")
    message = _stale(saved, current=[github])
    assert "github (user) was created since the plan" in message
    assert "; slack (user) was deleted since the plan" in message


def test_a_change_to_an_integration_outside_the_plan_does_not_make_it_stale() -> None:
    made, saved = _save()
    current = _remote(description="changed by hand", updated_at="2026-03-01T00:00:00.000Z")
    assert _verify(saved, current=current).actions == made.actions


def test_an_altered_change_digest_is_planned_differently() -> None:
    _save()
    data = json.loads(Path("plan.json").read_text())
    data["digests"][1]["change"] = "0" * 64
    Path("plan.json").write_text(json.dumps(data))
    message = _stale(read("plan.json"))
    assert message == "stale plan: slack (user) would now be planned differently"


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


def _github_update(secret: str) -> Desired:
    """github's description changes; its custom credentials (the secret's last 4 are the
    remote's) are not sent."""
    entry = desired(secret=secret, slug="github", description="new", credentials=secret_ref())
    return desired_state(entry)


GITHUB = [remote("github", description="old", credentials=custom_credentials("client-id", "1234"))]


def test_a_secret_the_plan_does_not_send_is_not_recorded_and_may_change() -> None:
    state = _github_update(SECRET)
    (action,) = plan(state, GITHUB).actions
    assert "credentials" not in action.values
    _, saved = _save(state, GITHUB)
    assert saved.data["digests"] == [{"change": saved.data["digests"][0]["change"], "secret": None}]
    other = "another-plan-secret-1234"  # the same last 4: the same plan
    assert _verify(saved, _github_update(other), GITHUB).actions == (action,)


def test_organization_credentials_are_sent_without_a_secret_digest() -> None:
    state = desired_state(desired(slug="slack", credentials={"type": "organization"}))
    current = [remote("slack", credentials=custom_credentials("client-id", "1234"))]
    made, saved = _save(state, current)
    (action,) = made.actions
    assert action.values == {"credentials": {"type": "organization"}}
    assert saved.data["digests"][0]["secret"] is None
    assert _verify(saved, state, current).actions == made.actions


def test_a_secret_rotated_since_a_plan_that_did_not_send_it_is_named_as_such() -> None:
    _, saved = _save(_github_update(SECRET), GITHUB)
    rotated = _github_update("canary-plan-secret-9999")  # new last 4: now sent
    message = _stale(saved, state=rotated, current=GITHUB)
    assert message == "stale plan: the client secret of github (user) changed since the plan"


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
