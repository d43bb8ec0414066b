"""Untrusted text escaped for the terminal and the CI log: plans, problems, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.app import create_app
from reconciler.errors import Problem
from reconciler.escaping import for_json, for_terminal, path_for_terminal
from reconciler.manifest.yamlsource import describe_value
from reconciler.planner import plan
from reconciler.render import Target, render_json, render_result_line, render_text
from reconciler.results import ActionResult, Outcome
from tests.support import invoke
from tests.support.factories import desired, desired_state, remote

HOSTILE = "\x1b[2J\u202e"
# Every character for_terminal must escape, one of each kind.
UNSAFE = (
    [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\ud800", "\udfff"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
ORGANIZATION = {"type": "organization"}


def _shows_only_safe_text(text: str) -> None:
    """No line of ``text`` is a workflow command, and no raw control or bidi character."""
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line
        assert not [c for c in line if c in UNSAFE and c != "\x1b"], line


def test_for_terminal_shows_controls_and_bidi_as_escapes() -> None:
    text = "a\nb\r\tc\x00\x1b[2J\x7f\x85\u202e\u2066\u200e\u061c\u2028\udcff"
    assert for_terminal(text) == (
        "a\\nb\\r\\tc\\x00\\x1b[2J\\x7f\\x85\\u202e\\u2066\\u200e\\u061c\\u2028\\udcff"
    )


@pytest.mark.parametrize("char", UNSAFE)
def test_for_terminal_leaves_no_unsafe_character(char: str) -> None:
    shown = for_terminal(f"x{char}y")
    assert shown.isascii() and shown.isprintable(), repr(shown)
    assert for_terminal(shown) == shown  # escaping twice changes nothing


def test_for_terminal_keeps_ordinary_text() -> None:
    text = "Prod GitHub — café 東京 👩‍💻 C:\\path\\to ::error:: 50% #[x]"
    assert for_terminal(text) == text


def test_legacy_workflow_commands_are_neutralised_anywhere_in_a_line() -> None:
    assert for_terminal("desc ##[error]pwned") == "desc ##\\x5berror]pwned"
    assert for_terminal("###[warning]x") == "###\\x5bwarning]x"


def test_a_file_name_never_starts_a_workflow_command() -> None:
    assert path_for_terminal("::error::pwned.yaml") == "./::error::pwned.yaml"
    assert path_for_terminal("  ::warning::x.yaml") == "./  ::warning::x.yaml"
    assert path_for_terminal("a\n::error::b.yaml") == "a\\n::error::b.yaml"
    assert path_for_terminal("dir/::error::c.yaml") == "dir/::error::c.yaml"


def test_for_json_keeps_the_meaning_and_escapes_the_rest() -> None:
    value = {"d": f"a\n{HOSTILE}\x85\u2066 ##[error]x\udcff", "k\u202e": [1, "é"]}
    text = for_json(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(text) == value
    assert '"a\\n\\u001b[2J\\u202e\\u0085\\u2066 ##\\u005berror]x\\udcff"' in text
    assert '"k\\u202e"' in text and '"é"' in text
    _shows_only_safe_text(text)


def test_a_problem_is_one_line_whatever_its_file_and_message() -> None:
    problem = Problem("a\n::error::b.yaml", 3, 4, f"bad {HOSTILE}\nnext")
    assert str(problem) == "a\\n::error::b.yaml:3:4: bad \\x1b[2J\\u202e\\nnext"
    assert str(Problem("::error::c.yaml", 0, 0, "x")) == "./::error::c.yaml: x"


def test_describe_value_escapes_controls_and_bidi() -> None:
    assert describe_value(f"a\n{HOSTILE}") == "'a\\n\\x1b[2J\\u202e'"
    assert describe_value("\u2066" * 50) == "'" + "\\u2066" * 37 + "...'"


def test_the_text_plan_escapes_values_slugs_paths_warnings_and_file_names() -> None:
    result = plan(
        desired_state(
            desired(slug="slack", description=HOSTILE, credentials=ORGANIZATION), prune=True
        ),
        [remote("gone\n::error::pwned"), remote("other\u202e", "organization")],
    )
    result = type(result)(
        actions=result.actions,
        unmanaged=(("x\n::warning::y", "user"),),
        warnings=("shared\n::error::warned",),
    )
    target = Target("http://localhost", "sk_…1234", ("in\n::error::file.yaml", "b\u202e.yaml"))
    text = render_text(result, target=target)
    _shows_only_safe_text(text)
    assert "Manifests: in\\n::error::file.yaml, b\\u202e.yaml" in text
    assert '      + description: "\\u001b[2J\\u202e"' in text
    assert "  - gone\\n::error::pwned (user) will be deleted" in text
    assert "  - other\\u202e (organization) will be deleted" in text
    assert "  ? x\\n::warning::y (user)" in text
    assert "Warning: shared\\n::error::warned" in text


def test_the_json_plan_is_safe_to_print_and_means_the_same() -> None:
    result = plan(
        desired_state(
            desired(slug="slack", description=f"{HOSTILE}\x85 ##[error]x", credentials=ORGANIZATION)
        ),
        [],
    )
    text = render_json(result)
    _shows_only_safe_text(text)
    change = json.loads(text)["changes"][0]
    assert change["fields"][0]["after"] == f"{HOSTILE}\x85 ##[error]x"


def test_a_result_line_shows_the_api_message_on_one_line() -> None:
    action = plan(desired_state(desired(slug="slack", credentials=ORGANIZATION)), []).actions[0]
    result = ActionResult(
        action, Outcome.FAILED, error="API error 422: bad\n::error::pwned \u202e", duration=0.5
    )
    assert render_result_line(result) == (
        "FAILED create slack (user) in 0.50s: API error 422: bad\\n::error::pwned \\u202e"
    )


class _Hostile422(httpx.AsyncBaseTransport):
    """The emulator, except that every POST is refused with a message forging lines."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            message = "rejected\n::error::pwned\r\n##[warning]forged \x1b[2J\u202e"
            return httpx.Response(422, json={"message": message})
        return await self.inner.handle_async_request(request)


def test_apply_shows_hostile_api_messages_on_one_line(manifest: Path) -> None:
    result = invoke(
        None,
        "apply",
        "-f",
        str(manifest),
        "--yes",
        transport=_Hostile422(create_app()),
        GITHUB_ACTIONS="true",
    )
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED create slack (user) in ")
    assert failed[0].endswith(
        ": API error 422: rejected\\n::error::pwned\\r\\n##\\x5bwarning]forged \\x1b[2J\\u202e"
    )
    _shows_only_safe_text(result.stdout)


def test_ordinary_text_is_shown_as_written(tmp_path: Any) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: slack\n    description: Café — 東京\n"
        "    credentials: {type: organization}\n"
    )
    result = invoke(create_app(), "plan", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    assert '+ description: "Café — 東京"' in result.stdout
