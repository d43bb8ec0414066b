"""Tests of YAML parsing with source positions, with libyaml and with pure Python."""

from __future__ import annotations

import math

import pytest
import yaml

from reconciler.yamlsource import (
    ALIAS_BYTES_PER_FILE_BYTE,
    DEFAULT_LOADER,
    MAX_ALIAS_BYTES,
    MAX_DEPTH,
    Document,
    LoaderFactory,
    Mark,
    describe_value,
    parse,
)

LOADERS: list[LoaderFactory] = [DEFAULT_LOADER, yaml.SafeLoader]


@pytest.fixture(params=LOADERS, ids=["default", "pure-python"])
def loader(request: pytest.FixtureRequest) -> LoaderFactory:
    factory: LoaderFactory = request.param
    return factory


def _parse(text: str, loader: LoaderFactory) -> Document:
    return parse(text.encode(), "m.yaml", loader=loader)


def _messages(document: Document) -> list[str]:
    return [str(problem) for problem in document.problems]


def test_the_c_loader_is_used_when_present() -> None:
    if yaml.__with_libyaml__:
        assert DEFAULT_LOADER is yaml.CSafeLoader


def test_values_and_positions(loader: LoaderFactory) -> None:
    document = _parse("version: 1\nintegrations:\n  - slug: github\n    scopes: [a, b]\n", loader)
    assert document.problems == []
    assert document.root is not None
    assert document.root.value == {
        "version": 1,
        "integrations": [{"slug": "github", "scopes": ["a", "b"]}],
    }
    assert document.locate(("integrations", 0)) == Mark(3, 5)
    assert document.locate(("integrations", 0, "slug")) == Mark(3, 11)
    assert document.locate(("integrations", 0, "slug"), key=True) == Mark(3, 5)
    assert document.locate(("integrations", 0, "scopes", 1)) == Mark(4, 17)


def test_locate_stops_at_the_deepest_node_that_exists(loader: LoaderFactory) -> None:
    document = _parse("a:\n  b: 1\n", loader)
    assert document.locate(("a", "missing", 3)) == Mark(2, 3)
    assert document.locate(("a", 0)) == Mark(2, 3)
    assert Document("empty.yaml", None).locate(("a",)) == Mark(0, 0)


def test_yaml_1_2_core_scalars(loader: LoaderFactory) -> None:
    text = (
        "[yes, no, on, off, y, true, False, ~, null, '', 12, -3, 0o17, 0x1F, 1.5, 1e3, .inf,"
        " -.INF, 2024-01-01, '1', !!str 2, !!float 3, \"true\", 012]"
    )
    document = _parse(text, loader)
    assert document.root is not None
    values = document.root.value
    assert values[:10] == ["yes", "no", "on", "off", "y", True, False, None, None, ""]
    assert values[10:16] == [12, -3, 15, 31, 1.5, 1000.0]
    assert values[16] == math.inf and values[17] == -math.inf
    assert values[18:] == ["2024-01-01", "1", "2", 3.0, "true", 12]
    assert document.problems == []


def test_nan(loader: LoaderFactory) -> None:
    document = _parse("x: .nan\n", loader)
    assert document.root is not None and math.isnan(document.root.value["x"])


def test_repeated_key_names_the_first(loader: LoaderFactory) -> None:
    document = _parse("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", loader)
    assert _messages(document) == [
        "m.yaml:4:3: repeated key 'c' (first at line 3)",
        "m.yaml:5:1: repeated key 'a' (first at line 1)",
    ]
    assert document.root is not None and document.root.value == {"a": 1, "b": {"c": 1}}


def test_keys_must_be_strings(loader: LoaderFactory) -> None:
    document = _parse("1: a\ntrue: b\n[x]: c\n? {y: 1}\n: d\nok: e\n", loader)
    assert _messages(document) == [
        'm.yaml:1:1: key 1 is not a string; quote it ("1")',
        'm.yaml:2:1: key true is not a string; quote it ("true")',
        "m.yaml:3:1: a mapping key must be a string, not a list",
        "m.yaml:4:3: a mapping key must be a string, not a mapping",
    ]
    assert document.root is not None and document.root.value == {"ok": "e"}


def test_no_object_is_ever_constructed(loader: LoaderFactory) -> None:
    text = (
        "a: !!python/object/apply:os.system [echo pwned]\n"
        "b: !!python/name:os.system x\n"
        "c: !!set {x}\n"
    )
    document = _parse(text, loader)
    assert _messages(document) == [
        "m.yaml:1:4: unsupported YAML tag !!python/object/apply:os.system",
        "m.yaml:2:4: unsupported YAML tag !!python/name:os.system",
        "m.yaml:3:4: unsupported YAML tag !!set",
    ]
    assert document.root is not None
    assert document.root.value == {"a": ["echo pwned"], "b": "x", "c": {"x": None}}


def test_core_tag_with_a_wrong_value(loader: LoaderFactory) -> None:
    messages = _messages(_parse("a: !!int abc\n", loader))
    assert messages == ["m.yaml:1:4: value does not match its tag !!int"]


def test_scalar_and_collection_aliases(loader: LoaderFactory) -> None:
    document = _parse("a: &x hello\nb: *x\nc: &l [1, 2]\nd: *l\n", loader)
    assert document.problems == []
    assert document.root is not None
    assert document.root.value == {"a": "hello", "b": "hello", "c": [1, 2], "d": [1, 2]}
    assert document.locate(("d", 1)) == Mark(3, 11)


def test_merge_keys_explicit_keys_win(loader: LoaderFactory) -> None:
    text = "base: &b {x: 1, y: 2}\nmore: &m {z: 3, x: 9}\nm:\n  <<: [*b, *m]\n  y: 5\n"
    document = _parse(text, loader)
    assert document.problems == []
    assert document.root is not None
    assert document.root.value["m"] == {"x": 1, "y": 5, "z": 3}
    assert document.locate(("m", "x"), key=True) == Mark(1, 11)


def test_merge_key_needs_mappings(loader: LoaderFactory) -> None:
    document = _parse("m:\n  <<: 3\n  a: 1\n", loader)
    assert _messages(document) == [
        "m.yaml:2:7: a merge key (<<) takes a mapping or a list of mappings"
    ]


def test_billion_laughs_is_refused(loader: LoaderFactory) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    document = _parse("\n".join(lines) + "\n", loader)
    assert document.root is None
    (problem,) = document.problems
    assert problem.message == "aliases expand this document beyond 250,000 nodes; refused"


REFUSED_BYTES = f"aliases expand this document beyond {MAX_ALIAS_BYTES:,} bytes; refused"


def test_a_long_string_repeated_by_aliases_is_refused_at_the_alias(loader: LoaderFactory) -> None:
    # 100 KB repeated 168 times is 16.8 MB: refused at the alias that crosses 8 MiB.
    crossing = MAX_ALIAS_BYTES // 100_000 + 1
    text = f"s: &s {'x' * 100_000}\nl: [{', '.join(['*s'] * 2 * crossing)}]\n"
    assert _messages(_parse(text, loader)) == [
        f"m.yaml:2:{5 + 4 * (crossing - 1)}: {REFUSED_BYTES}"
    ]


def test_nested_lists_of_long_strings_are_refused(loader: LoaderFactory) -> None:
    # Ten 1,000-character strings, ten of those lists, ten of those...: 10 MB at a3.
    strings = ", ".join(str(digit) * 1_000 for digit in range(10))
    lines = [f"a0: &a0 [{strings}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in (1, 2, 3)]
    document = _parse("\n".join(lines) + "\n", loader)
    assert document.root is None
    (problem,) = document.problems
    assert (problem.line, problem.message) == (4, REFUSED_BYTES)


def test_long_strings_merged_into_mappings_are_refused(loader: LoaderFactory) -> None:
    text = f"- &common {{description: {'d' * 100_000}}}\n" + "- {<<: *common, slug: s}\n" * 100
    crossing = MAX_ALIAS_BYTES // len(f"description{'d' * 100_000}") + 1
    (problem,) = _parse(text, loader).problems
    assert (problem.line, problem.column, problem.message) == (1 + crossing, 8, REFUSED_BYTES)


def test_aliases_may_repeat_up_to_the_bound_and_not_one_character_more(
    loader: LoaderFactory,
) -> None:
    eighth = "x" * (MAX_ALIAS_BYTES // 8)
    text = f"s: &s {eighth}\nt: &t y\nl: [*s, *s, *s, *s, *s, *s, *s, *s]\n"
    document = _parse(text, loader)
    assert document.problems == []
    assert document.root is not None and document.root.value["l"] == [eighth] * 8
    one_more = text.replace("]", ", *t]")
    assert _messages(_parse(one_more, loader)) == [f"m.yaml:3:37: {REFUSED_BYTES}"]


def test_keys_count_towards_the_bound(loader: LoaderFactory) -> None:
    key = "k" * 100_000  # longer than an implicit key may be: an explicit one (?)
    text = f"m: &m\n  ? {key}\n  : 1\nl: [{', '.join(['*m'] * 100)}]\n"
    (problem,) = _parse(text, loader).problems
    assert (problem.line, problem.message) == (4, REFUSED_BYTES)


def test_a_larger_file_may_alias_more(loader: LoaderFactory) -> None:
    # 9 MB of aliases: refused in a small file, not in one of 5 MB (bound: twice its size).
    aliases = f"s: &s {'x' * 1_000_000}\nl: [{', '.join(['*s'] * 9)}]\n"
    assert _messages(_parse(aliases, loader)) == [f"m.yaml:2:37: {REFUSED_BYTES}"]
    padded = aliases + f"p: {'p' * 4_000_000}\n"
    assert ALIAS_BYTES_PER_FILE_BYTE * len(padded) > 9_000_000
    assert _parse(padded, loader).problems == []


def test_a_large_manifest_sharing_fields_through_merge_keys_is_fine(
    loader: LoaderFactory,
) -> None:
    common = (
        "  - &common\n    slug: common\n"
        "    description: Shared by every integration of the Acme platform team, one per app\n"
        "    enabled: true\n    scopes: [repo, read:org, user:email]\n"
        "    credentials:\n      type: organization\n"
    )
    entries = "".join(f"  - <<: *common\n    slug: app-{i:05}\n" for i in range(9_999))
    document = _parse(f"version: 1\nintegrations:\n{common}{entries}", loader)
    assert document.problems == []
    assert document.root is not None
    integrations = document.root.value["integrations"]
    assert len(integrations) == 10_000
    assert integrations[-1] == {**integrations[0], "slug": "app-09998"}


def test_recursive_and_undefined_aliases(loader: LoaderFactory) -> None:
    assert _messages(_parse("a: &a [1, *a]\n", loader)) == [
        "m.yaml:1:11: alias *a refers to a node that contains it"
    ]
    assert _messages(_parse("a: *nope\n", loader)) == [
        "m.yaml:1:4: alias *nope refers to no anchor (define &nope first)"
    ]


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, "{a: " * 10_000 + "1" + "}" * 10_000, "- " * 10_000 + "x"],
    ids=["flow-sequences", "flow-mappings", "block-sequences"],
)
def test_very_deep_nesting_is_a_problem(loader: LoaderFactory, text: str) -> None:
    document = _parse(text, loader)
    assert document.root is None
    (problem,) = document.problems
    assert "nesting" in problem.message
    assert problem.line == 1


def test_nesting_up_to_the_limit_is_fine(loader: LoaderFactory) -> None:
    depth = MAX_DEPTH - 1
    document = _parse("[" * depth + "]" * depth, loader)
    assert document.problems == []


def test_syntax_errors_have_positions(loader: LoaderFactory) -> None:
    (problem,) = _parse('a: 1\nb: "open\n', loader).problems
    assert (problem.line, problem.column) == (3, 1)
    assert problem.message.startswith("invalid YAML: found unexpected end of stream")
    (tab,) = _parse("a:\n\tb: 1\n", loader).problems
    assert (tab.line, tab.column) == (2, 1)
    assert tab.message.endswith("indent with spaces, not tabs")


def test_one_document_only(loader: LoaderFactory) -> None:
    assert _messages(_parse("a: 1\n---\nb: 2\n", loader)) == [
        "m.yaml:2:1: a manifest holds one YAML document; found another"
    ]


def test_empty_documents(loader: LoaderFactory) -> None:
    comments_only = _parse("# nothing\n", loader)
    assert comments_only.root is None and comments_only.problems == []
    assert not comments_only.fatal
    explicit = _parse("---\n", loader)
    assert explicit.root is not None and explicit.root.value is None


def test_byte_order_mark(loader: LoaderFactory) -> None:
    document = parse(b"\xef\xbb\xbfa: 1\n", "m.yaml", loader=loader)
    assert document.problems == []
    assert document.root is not None and document.root.value == {"a": 1}
    assert document.locate(("a",)) == Mark(1, 4)
    latin1 = parse(b"\xef\xbb\xbfa: \xe9\n", "m.yaml", loader=loader)
    assert [(p.line, p.column) for p in latin1.problems] == [(1, 4)]


def test_non_utf8(loader: LoaderFactory) -> None:
    document = parse("a: 1\nb: naïve\n".encode("latin-1"), "m.yaml", loader=loader)
    assert document.fatal
    assert _messages(document) == ["m.yaml:2:6: not UTF-8 text (byte 0xef); save the file as UTF-8"]


def test_control_characters(loader: LoaderFactory) -> None:
    document = _parse("a: é\x00\n", loader)
    assert _messages(document) == ["m.yaml:1:5: character U+0000 is not allowed in YAML"]


def test_positions_count_characters_not_bytes(loader: LoaderFactory) -> None:
    document = _parse("é: [ü, x]\n", loader)
    assert document.locate(("é", 1)) == Mark(1, 8)


def test_huge_integer_stays_text(loader: LoaderFactory) -> None:
    digits = "9" * 5000
    document = _parse(f"a: {digits}\n", loader)
    assert document.root is not None and document.root.value == {"a": digits}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (1.5, "1.5"),
        ("yes", "'yes'"),
        ("x" * 50, repr("x" * 37 + "...")),
        ({}, "a mapping"),
        ([], "a list"),
    ],
)
def test_describe_value(value: object, shown: str) -> None:
    assert describe_value(value) == shown
