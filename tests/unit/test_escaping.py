"""Untrusted text escaped for the terminal and the CI log: plans, problems, results.

Through the CLI: tests/cli/test_untrusted_text.py.
"""

from __future__ import annotations

import json

import pytest

from reconciler.errors import Problem
from reconciler.escaping import for_json, for_terminal, path_for_terminal
from reconciler.identity import Identity
from reconciler.planner import plan
from reconciler.render import Target, render_json, render_result_line, render_text
from reconciler.results import ActionResult, Outcome
from reconciler.yamlsource import describe_value
from tests.support.factories import desired, desired_state, remote
from tests.support.hostile import UNSAFE, shows_only_safe_text

HOSTILE = "\x1b[2J\u202e"
ORGANIZATION = {"type": "organization"}


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
    shows_only_safe_text(text)


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
        unmanaged=(Identity("x\n::warning::y", "user"),),
        warnings=("shared\n::error::warned",),
    )
    target = Target("http://localhost", "sk_…1234", ("in\n::error::file.yaml", "b\u202e.yaml"))
    text = render_text(result, target=target)
    shows_only_safe_text(text)
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
    shows_only_safe_text(text)
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
