"""The Markdown plan: summary, table, details, escaping, and the size cap."""

from __future__ import annotations

import re

from reconciler.identity import Identity
from reconciler.plan import Plan
from reconciler.planner import plan
from reconciler.render import Target
from reconciler.render.markdown import MAX_CHARS, render_markdown, summary_text
from tests.support.factories import desired, desired_state, remote, secret_ref

TARGET = Target("https://api.workos.com", "sk_…1234", ("integrations.yaml",))


def _mixed_plan() -> Plan:
    entries = [
        desired(secret="abcd9999", slug="github", credentials=secret_ref()),
        desired(slug="slack", description="Prod | <b>bold</b> & `tick` ```fence```"),
        desired(slug="snowflake", auth_methods=["api_key"], config={"account": "new"}),
    ]
    remotes = [
        remote("slack", description="old"),
        remote("snowflake", credentials=None, auth_methods=["api_key"], config={"account": "a"}),
        remote("gone"),
    ]
    return plan(desired_state(*entries, prune=True), remotes)


def test_summary_line_table_and_details() -> None:
    result = _mixed_plan()
    text = render_markdown(result, target=TARGET)
    assert summary_text(result) == (
        "1 to replace, 1 to delete, 1 to create, 1 to update, 0 unchanged, 0 unmanaged"
    )
    assert f"**Plan:** {summary_text(result)}" in text
    assert "| Action | Slug | Ownership | Changes |" in text
    assert "sk_…1234" in text and "integrations.yaml" in text
    assert text.count("<details>") == 4 == text.count("</details>")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 4
    # destructive actions are listed first and flagged
    assert "replace" in table[2] and "destroys all its connected accounts" in table[2]
    assert "config cannot change in place" in table[2]
    assert "delete" in table[3] and "destroys" in table[3]
    assert '- config.account: "a"\n+ config.account: "new"  # forces replacement' in text
    assert "(sensitive, ends …9999)" in text


def test_values_are_escaped_in_cells_and_fenced_in_details() -> None:
    text = render_markdown(_mixed_plan())
    # the description's backticks can't close the diff fence
    fences = re.findall(r"^(`{3,})diff$", text, flags=re.MULTILINE)
    assert "````" in fences
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.count(" | ") == 3, line  # no cell split by a stray |


def test_table_cells_escape_pipes_and_html() -> None:
    result = plan(
        desired_state(desired(slug="slack", description="a|b", scopes=["x"])),
        [remote("slack")],
    )
    text = render_markdown(result, target=Target("https://x|y<z>", "sk_…1234", ("a|b.yaml",)))
    assert "https://x\\|y&lt;z&gt;" in text
    assert "a\\|b.yaml" in text


def test_no_changes() -> None:
    text = render_markdown(plan(desired_state(), [remote("notion")]))
    assert "No changes." in text
    assert "**Unmanaged**" in text and "`notion` (user)" in text


def test_two_thousand_changes_stay_under_the_limit_and_say_what_was_left_out() -> None:
    entries = [
        desired(slug=f"app-{i:04d}", description="x" * 200, credentials={"type": "organization"})
        for i in range(1000)
    ]
    remotes = [remote(f"old-{i:04d}", description="y" * 200) for i in range(1000)]
    result = plan(desired_state(*entries, prune=True), remotes)
    assert len(result.actions) == 2000
    text = render_markdown(result, target=TARGET)
    assert len(text) < MAX_CHARS
    assert "left out of the table" in text
    assert "Run `reconciler plan` for the full plan" in text
    # the deletes (destructive) come first, so none of them is hidden by the cut
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert all("delete" in row for row in rows[1:])
    assert text.count("<details>") == text.count("</details>")


def test_small_limit_cuts_details_first() -> None:
    full = render_markdown(_mixed_plan())
    text = render_markdown(_mixed_plan(), limit=len(full) - 100)
    assert len(text) <= len(full) - 100
    assert "details of" in text and "left out" in text
    assert text.count("| ✏️ update |") == 1  # the table itself is whole


def test_untrusted_text_is_escaped_everywhere_in_the_markdown_plan() -> None:
    from reconciler.render.markdown import cell, code

    result = plan(
        desired_state(
            desired(
                slug="slack",
                description="\x1b[2J\u202e ##[error]x",
                credentials={"type": "organization"},
            ),
            prune=True,
        ),
        [remote("gone|x\n</summary><img src=x>`"), remote("other\u2066", "organization")],
    )
    result = Plan(
        actions=result.actions,
        unmanaged=(Identity("un\nmanaged`", "user"),),
        warnings=("shared\n> [!CAUTION]\n# heading",),
    )
    target = Target("https://api.workos.com", "sk_…1234", ("a\n# b.yaml", "c\u202e.yaml"))
    text = render_markdown(result, target=target)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert "##[" not in text and "\n#" not in text.replace("\n### reconciler plan", "")
    assert "Manifests: a\\\\n# b.yaml, c\\\\u202e.yaml" in text
    assert "> shared\\\\n&gt; \\[!CAUTION\\]\\\\n# heading" in text
    assert '+ description: "\\u001b[2J\\u202e ##\\x5berror]x"' in text  # in the fenced diff
    assert "| 🗑️ **delete** | `` gone\\|x\\n</summary><img src=x>` `` | user |" in text
    assert "- gone|x\\n</summary><img src=x>` (user): not in the manifest" in text
    assert "<summary>delete gone|x\\n&lt;/summary&gt;&lt;img src=x&gt;` (user)</summary>" in text
    assert "`other\\u2066`" in text
    assert "`` un\\nmanaged` `` (user)" in text
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.count(" | ") == 3, line
    assert cell("a\tb\r\nc") == "a\\\\tb\\\\r\\\\nc"
    assert code("a`b") == "``a`b``" and code("x|y", in_table=True) == "`x\\|y`"


def test_two_thousand_ignored_entries_stay_under_the_limit_with_the_deletes_shown() -> None:
    ignored = [
        desired(slug=f"legacy-{i:04d}-" + "x" * 50, credentials={"type": "organization"})
        for i in range(2000)
    ]
    remotes = [remote("gone")]
    result = plan(desired_state(*ignored, prune=True, ignore=["legacy-*"]), remotes)
    assert len(result.warnings) >= 2000
    text = render_markdown(result, target=TARGET)
    assert len(text) <= MAX_CHARS
    assert "more warning(s) left out" in text
    assert "| 🗑️ **delete** | `gone` |" in text  # the delete is never crowded out
    assert "<details><summary>delete gone (user)</summary>" in text


def test_every_part_counts_towards_the_limit() -> None:
    """Long file names, title, policy, partial note, unmanaged slugs and warnings: however
    long each is, the whole stays within the limit and the actions' table is there."""
    from reconciler.plan import Targeting

    base = _mixed_plan()
    huge = Plan(
        actions=base.actions,
        unmanaged=tuple(Identity(f"u{i}-" + "s" * 5000, "user") for i in range(60)),
        warnings=tuple("w" * 50_000 for _ in range(5)),
        targeting=Targeting(("t" * 70_000,), ()),
    )
    target = Target("https://api.workos.com", "sk_…1234", tuple("f" * 9000 for _ in range(25)))
    target = Target(target.api_url, target.api_key_hint, target.files, "p" * 70_000)
    for limit in (MAX_CHARS, 20_000):
        text = render_markdown(huge, target=target, title="T" * 70_000, limit=limit)
        assert len(text) <= limit
        assert "| Action | Slug | Ownership | Changes |" in text
        assert "🗑️ **delete**" in text
