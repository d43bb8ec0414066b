"""Saved plans refused before verifying: not a file, not JSON, not UTF-8, not a saved plan,
another version, or partly malformed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PlanFileError
from reconciler.planfile import (
    read,
)
from tests.support.planfile import (
    _save,
)

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


PLAN_FILE_LIMIT = 256 * 2**20
"""The largest saved plan read: some 25 times the 10 MB of a plan of 10,000 integrations."""


def test_a_plan_file_of_up_to_256_mib_is_read_and_a_larger_one_refused_unread() -> None:
    with open("plan.json", "wb") as handle:
        handle.write(b"\xff")
        handle.truncate(PLAN_FILE_LIMIT)  # sparse: the rest is never written
    # read, and found not to be text
    assert _refused("plan.json") == "plan.json: not a saved plan (UnicodeDecodeError)"
    with open("plan.json", "ab") as handle:
        handle.write(b"{")
    refused = _refused("plan.json")
    assert refused.startswith("plan.json: not a saved plan (file is 256.0 MiB;")
    assert "saved plans over 256 MiB are refused" in refused
    assert "manifest" not in refused and "split" not in refused


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
