"""Bounds: what a pull request's manifest can make the tool hold, and how fast a huge one is
refused (while it is parsed, not after): nodes, entries, integrations, problems, files,
each cap named as a constant and reported as a problem (secret sizes and counts:
reconciler/manifest/references.py and its tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.manifest import files, load, loader, manifestfile
from reconciler.manifest.manifestfile import MAX_INTEGRATIONS
from reconciler.yamlsource import (
    DEFAULT_LOADER,
    MAX_COMPOSE_PROBLEMS,
    MAX_ENTRIES,
    MAX_NODES,
    EventSource,
    parse,
)

HEAD = "version: 1\nintegrations:\n"


class CountingLoader:
    """A PyYAML parser that counts the events it gives: how far the composer read."""

    def __init__(self) -> None:
        self.events = 0

    def __call__(self, text: str) -> EventSource:
        parser = DEFAULT_LOADER(text)
        counter = self

        class Counting:
            def get_event(self) -> yaml.Event | None:
                counter.events += 1
                return parser.get_event()

            def dispose(self) -> None:
                parser.dispose()

        return Counting()


def _problems(tmp_path: Path, text: str, **environ: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError) as caught:
        load([path], environ=environ)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_three_million_empty_entries_are_refused_after_the_cap_not_after_reading_them(
    tmp_path: Path,
) -> None:
    text = "version: 1\nintegrations: [" + "{}, " * 3_000_000 + "{}]\n"
    assert len(text) > 9_000_000
    counting = CountingLoader()
    doc = parse(
        text.encode(), "m.yaml", loader=counting, top_level_lists={"integrations": MAX_INTEGRATIONS}
    )
    assert doc.fatal
    assert doc.problems[-1].message == (
        f"more than {MAX_INTEGRATIONS:,} entries in one list; refused"
    )
    assert counting.events < 3 * MAX_INTEGRATIONS  # a mapping is two events: it stopped there
    problems = _problems(tmp_path, text)
    assert problems == ["2:40016: more than 10,000 entries in one list; refused"]


def test_a_long_list_or_mapping_is_refused_at_its_first_entry_over_the_cap(
    tmp_path: Path,
) -> None:
    scopes = ", ".join("s" for _ in range(MAX_ENTRIES + 5))
    problems = _problems(tmp_path, HEAD + f"  - slug: github\n    scopes: [{scopes}]\n")
    assert problems == [f"4:{14 + 3 * MAX_ENTRIES}: more than 10,000 entries in one list; refused"]
    config = "".join(f"      k{i}: v\n" for i in range(MAX_ENTRIES + 5))
    problems = _problems(tmp_path, HEAD + "  - slug: github\n    config:\n" + config)
    line = 5 + MAX_ENTRIES
    assert problems == [f"{line}:15: more than 10,000 entries in one mapping; refused"]


def test_lists_and_mappings_at_the_cap_are_read() -> None:
    items = ", ".join("s" for _ in range(MAX_ENTRIES))
    pairs = ", ".join(f"k{i}: v" for i in range(MAX_ENTRIES))
    assert parse(f"a: [{items}]\nb: {{{pairs}}}\n".encode(), "m.yaml").problems == []


def test_below_the_parser_cap_the_models_name_the_field(tmp_path: Path) -> None:
    scopes = ", ".join(f"s{i}" for i in range(1_001))
    problems = _problems(tmp_path, HEAD + f"  - slug: github\n    scopes: [{scopes}]\n")
    assert problems == ["4:13: scopes: at most 1,000 items, got more"]


def test_a_file_of_too_many_nodes_is_refused_as_it_is_read() -> None:
    scopes = ", ".join(f"s{i}" for i in range(1_000))
    count = 2 * MAX_NODES // 1_000
    text = HEAD + "".join(f"  - slug: a{i}\n    scopes: [{scopes}]\n" for i in range(count))
    counting = CountingLoader()
    doc = parse(text.encode(), "m.yaml", loader=counting)
    assert doc.fatal
    assert doc.problems[-1].message == (
        f"more than {MAX_NODES:,} YAML nodes in one file; refused (split it)"
    )
    assert counting.events < MAX_NODES * 1.01  # read no further than the cap


def test_problems_found_while_parsing_are_capped(tmp_path: Path) -> None:
    text = HEAD + "  - slug: github\n" + "    scopes: []\n" * 500
    problems = _problems(tmp_path, text)
    assert len(problems) == MAX_COMPOSE_PROBLEMS + 1
    assert problems[-1].endswith("more than 200 problems; stopped reading the file here")


def test_integrations_are_capped_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_INTEGRATIONS", 5)
    for name in ("a", "b"):
        entries = "".join(f"  - slug: {name}{i}\n" for i in range(3))
        (tmp_path / f"{name}.yaml").write_text(HEAD + entries)
    with pytest.raises(ManifestError) as caught:
        load([tmp_path / "a.yaml", tmp_path / "b.yaml"], environ={})
    assert [p.message for p in caught.value.problems] == [
        "6 integrations in all; at most 5 are read"
    ]
    monkeypatch.setattr(manifestfile, "MAX_INTEGRATIONS", 2)
    problems = _problems(tmp_path, HEAD + "  - slug: a\n  - slug: b\n  - slug: c\n")
    assert problems == ["5:5: more than 2 entries in one list; refused"]


def test_manifest_files_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_MANIFEST_FILES", 3)
    for index in range(4):
        (tmp_path / f"{index}.yaml").write_text("version: 1\nintegrations: []\n")
    with pytest.raises(ManifestError) as caught:
        load([tmp_path], environ={})
    assert [p.message for p in caught.value.problems] == [
        "4 manifest files; at most 3 are read at once"
    ]
