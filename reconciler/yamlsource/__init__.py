"""YAML parsing that remembers where every node was written.

PyYAML's event parser (libyaml's when available) feeds a composer of our own:
YAML 1.2 core scalars (``yes`` stays a string; see ``scalars``), string keys
only, no repeated keys, no arbitrary objects, bounded nesting and bounded alias
expansion (in nodes and in characters).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, Protocol

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
)

from reconciler.errors import Problem
from reconciler.yamlsource.scalars import TAG_PREFIX, matches_tag, resolve, short_tag, tag_kind

MAX_DEPTH: Final = 64
# What aliases may add to a document, as every later stage (reference
# interpolation, validation, secret checks) walks the expanded data: at most
# max(250,000, the nodes composed so far) nodes and max(8 MiB, twice the
# file's length) characters of scalars. 10,000 integrations that each merge
# `<<: *common` stay within if the shared fields hold under 25 nodes and 800
# characters; a 100 KB string aliased 10,000 times (1 GB) does not. 250,000
# nodes cost what as many alias-free ones do (a 1 MB file); 8 MiB, or twice a
# larger file, keeps a file's text work within three times its own. Characters
# are counted: an ASCII one is a byte, others are more.
MAX_ALIAS_NODES: Final = 250_000
MAX_ALIAS_BYTES: Final = 8 * 2**20
ALIAS_BYTES_PER_FILE_BYTE: Final = 2
MERGE_KEY: Final = "<<"
# Caps checked as a file is composed, so a huge one fails fast (3,000,000 `{}` took 54 s,
# 4.7 GB): nodes, entries per collection (not the lists ``parse`` names), problems.
MAX_NODES: Final = 400_000
MAX_ENTRIES: Final = 10_000
MAX_COMPOSE_PROBLEMS: Final = 200

_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


class EventSource(Protocol):
    """What the composer needs of a PyYAML parser (C or pure Python)."""

    def get_event(self) -> Event | None: ...
    def dispose(self) -> None: ...


LoaderFactory = Callable[[str], EventSource]
DEFAULT_LOADER: Final[LoaderFactory] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Mark(NamedTuple):
    """A 1-based line and column (a tuple: hundreds of thousands are made per large file)."""

    line: int
    column: int


class Entry(NamedTuple):
    """One mapping entry: where its key was written, and its value."""

    key: Mark
    node: Node


@dataclass(slots=True, eq=False)
class Node:
    """A composed node: its plain Python value, where it starts, its children.

    ``size`` counts the nodes it holds (itself included) and ``chars`` the
    characters of their scalars (keys included), aliases expanded.
    """

    mark: Mark
    value: Any = None
    entries: dict[str, Entry] | None = None
    items: list[Node] | None = None
    size: int = 1
    chars: int = 0
    merge_key: bool = False
    """A plain, untagged ``<<``: YAML's merge key (a quoted ``"<<"`` is an ordinary key;
    a plain scalar's style is None, or "" from libyaml)."""


@dataclass(frozen=True)
class Document:
    """A parsed file: its root (None if empty or unreadable) and its problems."""

    file: str
    root: Node | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        """True when the file could not be parsed at all."""
        return self.root is None and bool(self.problems)

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Mark:
        """Where ``path`` was written: the deepest node reached (its key if ``key``)."""
        if self.root is None:
            return Mark(0, 0)
        node, key_mark = self.root, None
        for part in path:
            if node.entries is not None and isinstance(part, str) and part in node.entries:
                key_mark, node = node.entries[part]
            elif node.items is not None and isinstance(part, int) and 0 <= part < len(node.items):
                key_mark, node = None, node.items[part]
            else:
                return node.mark
        return key_mark if key and key_mark is not None else node.mark


def describe_value(value: object) -> str:
    """A short description of a YAML value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def parse(
    data: bytes,
    file: str,
    *,
    loader: LoaderFactory = DEFAULT_LOADER,
    top_level_lists: Mapping[str, int] | None = None,
) -> Document:
    """Parse one YAML document from ``data``; ``file`` names it in problems;
    ``top_level_lists``: other caps for the lists under those keys of the root."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        message = f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        return Document(file, None, [Problem(file, line, column, message)])
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line, column = _text_position(text, bad.start())
        message = f"character U+{ord(bad.group()):04X} is not allowed in YAML"
        return Document(file, None, [Problem(file, line, column, message)])
    composer = _Composer(file, max(MAX_ALIAS_BYTES, ALIAS_BYTES_PER_FILE_BYTE * len(text)))
    composer.top_level_lists = dict(top_level_lists or {})
    try:
        source = loader(text)
        try:
            root = composer.compose(source)
        finally:
            source.dispose()
    except _FatalProblem as error:
        return Document(file, None, [*composer.problems, error.problem])
    except yaml.MarkedYAMLError as error:
        return Document(file, None, [_syntax_problem(file, text, error)])
    except yaml.YAMLError as error:
        return Document(file, None, [Problem(file, 0, 0, f"invalid YAML: {error}")])
    return Document(file, root, composer.problems)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[start:offset].decode("utf-8", errors="replace")
    return data.count(b"\n", 0, offset) + 1, len(prefix) + 1


def _text_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax_problem(file: str, text: str, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    message = f"invalid YAML: {error.problem or error.context or 'syntax error'}"
    if error.problem and error.context:
        where = f" at line {error.context_mark.line + 1}" if error.context_mark else ""
        message += f" ({error.context}{where})"
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        message += "; indent with spaces, not tabs"
    return Problem(file, line, column, message)


class _FatalProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass(slots=True, eq=False)
class _Frame:
    """A collection being composed."""

    node: Node
    anchor: str | None
    key: tuple[str | None, Mark] | None = None
    merges: list[Node] = field(default_factory=list)
    merging: bool = False
    """Whether the pending key is the merge key."""
    limit: int = MAX_ENTRIES


class _Composer:
    """Builds ``Node``s from parser events, without recursion."""

    def __init__(self, file: str, max_aliased_chars: int) -> None:
        self.file = file
        self.max_aliased_chars = max_aliased_chars
        self.problems: list[Problem] = []
        self.anchors: dict[str, Node] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: Node | None = None
        self.top_level_lists: dict[str, int] = {}
        self.composed = 0
        self.aliased = 0
        self.aliased_chars = 0

    def compose(self, source: EventSource) -> Node | None:
        documents = 0
        while (event := source.get_event()) is not None:
            if isinstance(event, ScalarEvent):
                self._attach(self._scalar(event))
            elif isinstance(event, CollectionStartEvent):
                self._open(event)
            elif isinstance(event, CollectionEndEvent):
                self._close()
            elif isinstance(event, AliasEvent):
                self._attach(self._alias(event))
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._fatal(event, "a manifest holds one YAML document; found another")
        return self.root

    def _problem(self, mark: Mark, message: str) -> None:
        if len(self.problems) >= MAX_COMPOSE_PROBLEMS:
            stop = f"more than {MAX_COMPOSE_PROBLEMS} problems; stopped reading the file here"
            raise _FatalProblem(Problem(self.file, mark.line, mark.column, stop))
        self.problems.append(Problem(self.file, mark.line, mark.column, message))

    def _fatal(self, event: Event, message: str) -> _FatalProblem:
        mark = _mark(event)
        return _FatalProblem(Problem(self.file, mark.line, mark.column, message))

    def _scalar(self, event: ScalarEvent) -> Node:
        self._check_room(event)
        mark = _mark(event)
        node = Node(mark, resolve(event), chars=len(event.value))
        if event.value == MERGE_KEY and not event.style and event.tag is None:
            node.merge_key = True
        tag = event.tag
        if tag is not None and tag != "!":
            if tag_kind(tag) == "other":
                self._problem(mark, f"unsupported YAML tag {short_tag(tag)}")
            elif not matches_tag(tag, event.value):
                self._problem(mark, f"value does not match its tag {short_tag(tag)}")
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        return node

    def _open(self, event: CollectionStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self._fatal(event, f"nesting deeper than {MAX_DEPTH} levels")
        self._check_room(event)
        mark = _mark(event)
        is_mapping = isinstance(event, MappingStartEvent)
        expected = "map" if is_mapping else "seq"
        if event.tag not in (None, "!", TAG_PREFIX + expected):
            self._problem(mark, f"unsupported YAML tag {short_tag(event.tag or '')}")
        node = Node(mark, entries={}) if is_mapping else Node(mark, items=[])
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        limit = MAX_ENTRIES
        if len(self.stack) == 1 and not is_mapping and self.stack[0].key is not None:
            limit = self.top_level_lists.get(self.stack[0].key[0] or "", MAX_ENTRIES)
        self.stack.append(_Frame(node, event.anchor, limit=limit))

    def _check_room(self, event: Event, *, makes_node: bool = True) -> None:
        """Fatal past MAX_NODES, or when the collection composed is full."""
        self.composed += makes_node
        if self.composed > MAX_NODES:
            raise self._fatal(
                event, f"more than {MAX_NODES:,} YAML nodes in one file; refused (split it)"
            )
        if not self.stack:
            return
        frame = self.stack[-1]
        node = frame.node
        held = len(node.items) if node.items is not None else len(node.entries or ())
        if held >= frame.limit and (node.items is not None or frame.key is not None):
            kind = "list" if node.items is not None else "mapping"
            raise self._fatal(event, f"more than {frame.limit:,} entries in one {kind}; refused")

    def _close(self) -> None:
        frame = self.stack.pop()
        node = frame.node
        if node.entries is not None:
            for merged in frame.merges:
                for name, entry in (merged.entries or {}).items():
                    if name not in node.entries:
                        node.entries[name] = entry
            node.value = {name: entry.node.value for name, entry in node.entries.items()}
        else:
            node.value = [item.value for item in node.items or ()]
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = node
        self._attach(node)

    def _alias(self, event: AliasEvent) -> Node:
        self._check_room(event, makes_node=False)
        name = event.anchor or ""
        if name in self.open_anchors:
            raise self._fatal(event, f"alias *{name} refers to a node that contains it")
        node = self.anchors.get(name)
        if node is None:
            raise self._fatal(event, f"alias *{name} refers to no anchor (define &{name} first)")
        self.aliased += node.size
        if self.aliased > max(MAX_ALIAS_NODES, self.composed):
            raise self._fatal(
                event, f"aliases expand this document beyond {MAX_ALIAS_NODES:,} nodes; refused"
            )
        self.aliased_chars += node.chars
        if self.aliased_chars > self.max_aliased_chars:
            limit = f"{self.max_aliased_chars:,} bytes"
            raise self._fatal(event, f"aliases expand this document beyond {limit}; refused")
        return node

    def _attach(self, node: Node) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        parent = frame.node
        parent.size += node.size
        parent.chars += node.chars
        if parent.items is not None:
            parent.items.append(node)
        elif frame.key is None:
            frame.key = (self._key_name(node), node.mark)
            frame.merging = node.merge_key
        else:
            name, key_mark = frame.key
            frame.key = None
            self._add_entry(frame, name, key_mark, node)

    def _key_name(self, node: Node) -> str | None:
        if node.entries is not None or node.items is not None:
            self._problem(node.mark, f"a mapping key must be a string, not {_kind(node)}")
            return None
        if not isinstance(node.value, str):
            shown = describe_value(node.value)
            self._problem(node.mark, f'key {shown} is not a string; quote it ("{shown}")')
            return None
        return node.value

    def _add_entry(self, frame: _Frame, name: str | None, key_mark: Mark, node: Node) -> None:
        entries = frame.node.entries
        assert entries is not None
        if name is None:
            return
        if name == MERGE_KEY and frame.merging:
            merged = node.items if node.items is not None else [node]
            if all(item.entries is not None for item in merged):
                frame.merges.extend(merged)
                return
            self._problem(node.mark, "a merge key (<<) takes a mapping or a list of mappings")
            return
        first = entries.get(name)
        if first is not None:
            self._problem(key_mark, f"repeated key {name!r} (first at line {first.key.line})")
            return
        entries[name] = Entry(key_mark, node)


def _mark(event: Event) -> Mark:
    start = event.start_mark
    return Mark(start.line + 1, start.column + 1) if start is not None else Mark(0, 0)


def _kind(node: Node) -> str:
    return "a mapping" if node.entries is not None else "a list"
