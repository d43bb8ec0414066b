"""Export round-trips any string: export, load, plan: no changes.

Arbitrary text in every free-text place of an integration (descriptions, the
custom provider's name and extra authorization parameters, keys and values; a
built-in's declared config): control characters, U+0085, U+2028/2029, bidi and format
characters, YAML merge keys (``<<``), comment and mapping markers. The YAML
is read back by the manifest loader (YAML 1.2 core schema, merge keys only
when plain) and planned against the same remote.

A value holding ``${`` (reference syntax of any kind, ``$${`` too) is
written with ``$${``, which the loader reads back as a literal ``${``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.exporter import export_manifest
from reconciler.manifest import load
from reconciler.planner import plan
from tests.support.factories import remote

SPECIAL = ["\x85", "\u2028", "\u2029", "\x00", "\x1b", "\t", "\r\n", "\ufeff", "\u202e", "<<"]
SPECIAL += ["#", ": ", "- ", "'", '"', "\\", "~", "null", "yes", "0o17", "1e3", " ", "&a", "*a"]
SPECIAL += ["${", "$${", "${vault:k}", "${env:HOME}", "${var:RECONCILER_VAR_X}", "$", "}"]

_pieces = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=6),
)
texts = st.lists(_pieces, max_size=4).map("".join)
names = texts.filter(lambda text: text.strip() != "")


@st.composite
def remote_items(draw: st.DrawFn) -> list[Any]:
    """A custom provider and a built-in with declared config, free text everywhere."""
    custom = remote(
        "acme",
        description=draw(texts),
        credentials={"type": "organization"},
        custom_provider={
            "name": draw(names),
            "authorization_url": "https://acme.example/authorize",
            "token_url": "https://acme.example/token",
            "additional_authorization_parameters": draw(st.dictionaries(texts, texts, max_size=3)),
        },
    )
    builtin = remote(
        "snowflake",
        description=draw(texts),
        config={"account": draw(texts)},
        credentials={"type": "organization"},
    )
    return [custom, builtin]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(items=remote_items())
def test_any_text_exports_loads_and_plans_clean(items: list[Any], tmp_path: Path) -> None:
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export_manifest(items).text, encoding="utf-8")
    desired = load([manifest], environ={})
    for entry, item in zip(desired.integrations, items, strict=True):
        assert entry.spec.description == item.description
        assert entry.spec.config == item.config
    assert plan(desired, items).actions == ()


def test_a_quoted_merge_key_is_an_ordinary_key_and_a_plain_one_merges(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nx-common: &common {description: shared}\nintegrations:\n"
        "  - slug: acme\n    '<<': quoted\n    <<: *common\n"
        "    custom_provider: {name: A, authorization_url: 'https://a.example/a',"
        " token_url: 'https://a.example/t', additional_authorization_parameters: {'<<': v}}\n"
        "    credentials: {type: organization}\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError, match=r"m\.yaml:5:5: unknown key .<<. in integration"):
        load([manifest], environ={})  # the quoted key is an ordinary (unknown) key
    manifest.write_text(manifest.read_text().replace("    '<<': quoted\n", ""), encoding="utf-8")
    (entry,) = load([manifest], environ={}).integrations
    assert entry.spec.description == "shared"
    assert entry.spec.custom_provider is not None
    assert entry.spec.custom_provider.additional_authorization_parameters == {"<<": "v"}
