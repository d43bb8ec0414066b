"""How the output filter (``reconciler.secrets.Redactor``) searches: with few forms it
looks each one up, with many through an index of their first characters. Both must
find the same thing: a value that starts or ends the text, the longest form at a
position, a ``repr`` between its quotes, and the characters of a base64 blob that
depend on the value alone (no more: the others depend on what surrounds it)."""

from __future__ import annotations

import base64

import pytest

from reconciler.secrets import REDACTED, Redactor

FIVE = "k3y9Q"  # the shortest value the filter takes (4 or fewer are shown by design)
PADDED = "canary-pad-Zq81x"  # 16 bytes: its base64 ends with "=="
OTHERS = [f"unrelated-canary-{n:02d}-Wx" for n in range(8)]  # their forms fill the index


def _filter(*values: str, many: bool) -> Redactor:
    redactor = Redactor()
    for value in (*values, *(OTHERS if many else ())):
        redactor.add_secret(value)
    return redactor


SEARCHES = pytest.mark.parametrize("many", [False, True], ids=["few-forms", "many-forms"])


@SEARCHES
def test_a_value_of_5_characters_is_found_at_the_very_start_and_end(many: bool) -> None:
    redactor = _filter(FIVE, many=many)
    assert redactor.redact(FIVE) == REDACTED
    assert redactor.redact(f"x{FIVE}") == f"x{REDACTED}"
    assert redactor.redact(f"ab{FIVE}") == f"ab{REDACTED}"
    assert redactor.redact(f"{FIVE}yz") == f"{REDACTED}yz"
    assert redactor.redact(FIVE[:-1]) == FIVE[:-1]


@SEARCHES
def test_the_longest_form_at_a_position_wins(many: bool) -> None:
    """The base64 of a value alone, padded: the unpadded form is a prefix of it, and
    taking that one would leave the last characters, which depend on the value."""
    encoded = base64.b64encode(PADDED.encode()).decode()
    assert encoded.endswith("==")
    redactor = _filter(PADDED, many=many)
    assert redactor.redact(encoded) == REDACTED
    assert redactor.redact(f"[{encoded}]") == f"[{REDACTED}]"


@SEARCHES
def test_a_repr_is_hidden_between_its_quotes(many: bool) -> None:
    # \x01: repr writes \x01 where JSON writes \u0001, so only the repr form matches
    value = "canary\x01secret-é-Zq81"
    redactor = _filter(value, many=many)
    assert redactor.redact(repr(value)) == f"'{REDACTED}'"
    assert redactor.redact(f"got {value!r}.") == f"got '{REDACTED}'."


@pytest.mark.parametrize("lead", [0, 1, 2])
def test_inside_a_base64_blob_exactly_the_characters_of_the_value_alone_are_hidden(
    lead: int,
) -> None:
    """Two values that differ only in their 5th last character, in the same blob: what
    is left shown must not tell them apart (the characters kept depend on the bytes
    around the value, and on its first and last characters, which they share)."""
    first = "A" * 30 + "B" + "wxyz"
    second = "A" * 30 + "C" + "wxyz"
    shown = []
    for value in (first, second):
        blob = base64.b64encode(bytes(range(1, lead + 1)) + value.encode() + b"-tail!").decode()
        redacted = _filter(value, many=False).redact(blob)
        assert REDACTED in redacted
        shown.append(redacted)
    assert shown[0] == shown[1]
