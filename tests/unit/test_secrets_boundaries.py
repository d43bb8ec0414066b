"""The exact limits of what a secret shows and of what the filters hide: each length on
both sides of its boundary, secrets sharing a prefix, and every escaped form of an echo.

Most rules are the scrubber's (``reconciler.scrubbing``, foreign text: fragments too);
the whole-value matching is shared with the output filter (``Redactor``), and its tests
run against both."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from reconciler.scrubbing import Scrubber, scrub
from reconciler.secrets import REDACTED, Redactor, Secret, masked, redact_key


def redactor_of(*secrets: str) -> Scrubber:
    redactor = Scrubber()
    for secret in secrets:
        redactor.add_secret(secret)
    return redactor


# --- what a secret shows ------------------------------------------------------------------


def test_a_secret_shows_exactly_its_last_4_characters() -> None:
    secret = Secret("canary-value-WXYZ")
    assert secret.last4 == "WXYZ"
    assert repr(secret) == "Secret((sensitive, ends …WXYZ))"
    assert str(secret) == f"{secret}" == repr(secret)


def test_a_secret_shows_its_last_4_whatever_its_length() -> None:
    # the hint depends on the last 4 alone, never on the length (a secret under 8
    # characters is refused when it is read: tests/unit/test_references_edges.py)
    for value in ("abcd5678", "abc5678", "x" * 4000 + "5678"):
        assert Secret(value).hint == Secret(value).last4 == "5678"
        assert repr(Secret(value)) == "Secret((sensitive, ends …5678))"


def test_the_api_key_shows_its_last_4_from_8_characters_on() -> None:
    assert redact_key("sk_test_canaryKEY-Lm42") == "sk_…Lm42"
    assert redact_key("sk_12345") == "sk_…2345"
    assert redact_key("sk_1234") == "sk_…"
    assert redact_key("") == "sk_…"


def test_masked_names_the_last_4_only_when_there_are_some() -> None:
    assert masked("WXYZ") == "(sensitive, ends …WXYZ)"
    assert masked(None) == masked("") == "(sensitive)"


def test_secrets_compare_by_value_and_never_equal_a_plain_string() -> None:
    value = "canary-equal-Qw12"
    assert Secret(value) == Secret(value)
    assert Secret(value) != Secret(value.upper())
    assert Secret(value) != value
    assert Secret(value).__eq__(value) is NotImplemented
    assert len({Secret(value), Secret(value), Secret(value.upper())}) == 2


def test_a_digest_is_the_salted_hmac_sha256_of_the_value() -> None:
    value = "canary-digest-Rt56"
    expected = hmac.new(b"salt", value.encode(), hashlib.sha256).hexdigest()
    assert Secret(value).digest(b"salt") == expected
    assert Secret(value).digest(b"salt") != Secret(value + "x").digest(b"salt")


# --- which secrets the redactor hides, by length -----------------------------------------


def test_a_secret_of_5_characters_is_redacted_whole_and_one_of_4_never() -> None:
    redactor = redactor_of("Ab3d5", "Wx9z")
    assert redactor.redact("[Ab3d5] [Wx9z]") == f"[{REDACTED}] [Wx9z]"
    assert redactor.redact("[Ab3d] [b3d5]") == "[Ab3d] [b3d5]"  # no part of it


def test_a_value_of_5_characters_is_redacted_whole_and_one_of_4_never() -> None:
    redactor = Scrubber()
    redactor.add_value("Ab3d5")
    redactor.add_value(Secret("Wx9z"))
    assert redactor.redact("[Ab3d5] [Wx9z]") == f"[{REDACTED}] [Wx9z]"
    redactor.add_value(Secret("Wx9z8"))
    assert redactor.redact("[Wx9z8]") == f"[{REDACTED}]"


SIX = 'q/"k z'  # 6 characters, each escaping changes


@pytest.mark.parametrize(
    "form",
    [
        SIX,
        json.dumps(SIX)[1:-1],
        quote(SIX, safe=""),
        quote(SIX),
        quote_plus(SIX),
    ],
    ids=["as-sent", "json", "quote-safe-none", "quote", "quote-plus"],
)
def test_a_6_character_secret_is_redacted_whole_in_each_form_it_is_sent_in(form: str) -> None:
    assert redactor_of(SIX).redact(f"<{form}>") == f"<{REDACTED}>"


def test_a_6_character_secret_is_never_redacted_in_part_or_in_another_case() -> None:
    redactor = redactor_of("Ab3d5f")
    assert redactor.redact("Ab3d5 b3d5f AB3D5F") == "Ab3d5 b3d5f AB3D5F"
    assert redactor.redact("xAb3d5fx") == f"x{REDACTED}x"


def test_an_echo_one_character_short_of_a_fragment_is_left_and_a_whole_one_is_not() -> None:
    secret = "canary-cut-Ab12Cd"
    redactor = redactor_of(secret)
    assert redactor.redact(secret[:7]) == secret[:7]
    assert redactor.redact(secret[:8]) == REDACTED
    assert redactor.redact(secret[-7:]) == secret[-7:]
    assert redactor.redact(secret[-8:]) == REDACTED
    assert redactor.redact(secret[1:-1]) == REDACTED
    assert redactor.redact(f"{secret[:7]} {secret[-7:]}") == f"{secret[:7]} {secret[-7:]}"


# --- secrets sharing a prefix --------------------------------------------------------------


def test_secrets_of_every_length_sharing_a_prefix_are_each_hidden_whole() -> None:
    secrets = ["Pfx12", "Pfx12a", "Pfx12ab", "Pfx12abc", "Pfx12abcd-and-longer"]
    for order in (secrets, secrets[::-1]):
        redactor = redactor_of(*order)
        for secret in secrets:
            assert redactor.redact(f"<{secret}>") == f"<{REDACTED}>", secret
        line = " ".join(secrets)
        assert redactor.redact(line) == " ".join([REDACTED] * len(secrets))


def test_a_short_secret_inside_a_longer_one_hides_the_whole_longer_one() -> None:
    redactor = redactor_of("cnry42", "cnry42-x", "xx-cnry42-tail")
    assert redactor.redact("<cnry42-x>") == f"<{REDACTED}>"
    assert redactor.redact("<xx-cnry42-tail>") == f"<{REDACTED}>"
    assert redactor.redact("<cnry42-y>") == f"<{REDACTED}-y>"


WholeValues = Callable[..., Scrubber | Redactor]


def _whole_values(*values: str) -> Scrubber:
    redactor = Scrubber()
    for value in values:
        redactor.add_value(value)
    return redactor


def _output_filter(*values: str) -> Redactor:
    redactor = Redactor()
    for value in values:
        redactor.add_secret(value)
    return redactor


WHOLE_VALUE_FILTERS = pytest.mark.parametrize(
    "filter_of", [_whole_values, _output_filter], ids=["scrubber-values", "redactor"]
)


@WHOLE_VALUE_FILTERS
def test_plain_values_overlapping_in_the_text_are_hidden_as_one(filter_of: WholeValues) -> None:
    redactor = filter_of("https://a.example/abcdx", "a.example/abcdef", "cdefgh")
    # "…/abcd" then "e": the automaton falls back from one value to the other
    assert redactor.redact("[https://a.example/abcdefgh]") == f"[https://{REDACTED}]"
    assert redactor.redact("[https://a.example/abcdx]") == f"[{REDACTED}]"
    assert redactor.redact("[zcdefghz]") == f"[z{REDACTED}z]"


def test_two_secrets_in_one_line_each_hide_a_shorter_one_inside_them() -> None:
    redactor = redactor_of("Ab3d5", "cnry42", "xx-cnry42-tail")
    assert redactor.redact("Ab3d5 xx-cnry42-tail.") == f"{REDACTED} {REDACTED}."


def _every_occurrence_hidden(text: str, values: list[str]) -> str:
    """What redacting whole values must give: every occurrence of each hidden, overlapping
    occurrences as one ``(redacted)``, occurrences that only touch as two."""
    spans = sorted(
        (start, start + len(value))
        for value in values
        for start in range(len(text))
        if text.startswith(value, start)
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(end, merged[-1][1])
        else:
            merged.append([start, end])
    parts, done = [], 0
    for start, end in merged:
        parts += [text[done:start], REDACTED]
        done = end
    return "".join([*parts, text[done:]])


@WHOLE_VALUE_FILTERS
def test_whole_values_are_found_wherever_they_start_even_inside_another(
    filter_of: WholeValues,
) -> None:
    values = ["aabab", "ababb", "babaa", "bbaab", "abbaba", "aaaaa"]
    redactor = filter_of(*values)
    for chars in itertools.product("ab", repeat=9):
        text = "".join(chars)
        assert redactor.redact(text) == _every_occurrence_hidden(text, values), text


@WHOLE_VALUE_FILTERS
def test_a_value_is_found_right_after_a_partial_match_of_another(filter_of: WholeValues) -> None:
    values = ["abcde", "bcdxy"]
    redactor = filter_of(*values)
    # "abcd" then "x": the match goes on as "bcdx…"; after "abcde", nothing is half-matched
    for text in ("abcdxy", "zabcdez", "bcde", "abcdebcde", "abcdecdxy", "abcdbcdxy"):
        assert redactor.redact(text) == _every_occurrence_hidden(text, values), text


# --- escaped forms -------------------------------------------------------------------------

ESCAPED = 'canary "quoted" \\ é/ü+ & = ? Zz09'  # JSON, URL and non-ASCII escaping all change it


ENCODINGS: dict[str, Callable[[str], str]] = {
    "json-ascii": lambda s: json.dumps(s)[1:-1],
    "json-utf8": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "quote-safe-none": lambda s: quote(s, safe=""),
    "quote": quote,
    "quote-plus": quote_plus,
    "hex": lambda s: s.encode().hex(),
    "hex-upper": lambda s: s.encode().hex().upper(),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_every_escaped_form_of_a_secret_is_hidden_whole(encoding: str) -> None:
    encoded = ENCODINGS[encoding](ESCAPED)
    assert encoded != ESCAPED
    # the output filter: the whole form; the scrubber: its fragments too
    assert _output_filter(ESCAPED).redact(f"a=1&s={encoded}&b=2") == f"a=1&s={REDACTED}&b=2"
    redactor = redactor_of(ESCAPED)
    assert redactor.redact(f"a=1&s={encoded}&b=2") == f"a=1&s={REDACTED}&b=2"
    # the start and the end of the form, each a fragment of 8
    assert redactor.redact(f"<{encoded[:8]}|{encoded[-8:]}>") == f"<{REDACTED}|{REDACTED}>"


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_short_secret_with_non_ascii_is_hidden_in_both_json_forms(ensure_ascii: bool) -> None:
    secret = 'é"ü-12'  # 6 characters: redacted whole only
    body = json.dumps({"client_secret": secret}, ensure_ascii=ensure_ascii)
    assert redactor_of(secret).redact(body) == f'{{"client_secret": "{REDACTED}"}}'


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_plain_value_is_hidden_in_both_json_forms(ensure_ascii: bool) -> None:
    value = 'https://é.example/"token"'
    redactor = Scrubber()
    redactor.add_value(value)
    body = json.dumps({"url": value}, ensure_ascii=ensure_ascii)
    assert redactor.redact(body) == f'{{"url": "{REDACTED}"}}'


def test_a_plain_value_is_not_hidden_url_encoded() -> None:
    value = "https://crm.acme.example/a b"
    redactor = Scrubber()
    redactor.add_value(value)
    assert redactor.redact(quote_plus(value)) == quote_plus(value)


def test_only_the_letters_a_to_z_are_case_folded() -> None:
    # ASCII text folds with str.lower; text with other characters folds A-Z alone, so an
    # echo's "[" is never taken for the secret's "{"
    redactor = redactor_of("canary{é-secret")
    assert redactor.redact("CANARY{é-SECRET") == REDACTED
    assert redactor.redact("CANARY[é-SECRET") == f"CANARY[{REDACTED}"


# --- API keys --------------------------------------------------------------------------------


def test_an_api_key_loses_one_well_known_prefix_only() -> None:
    key = "sk_test_sk_live_canary1"
    redactor = redactor_of(key)
    # the random part is "sk_live_canary1": a text holding it is hidden whole
    assert redactor.redact("<sk_live_canary1>") == f"<{REDACTED}>"
    assert redactor.redact(f"<{key}>") == f"<sk_test_{REDACTED}>"


def test_an_api_key_whose_random_part_is_4_characters_or_fewer_is_never_redacted() -> None:
    assert redactor_of("sk_test_Ab12").empty
    assert redactor_of("sk_live_Ab12").redact("sk_live_Ab12") == "sk_live_Ab12"
    assert redactor_of("sk_test_Ab123").redact("sk_test_Ab123") == f"sk_test_{REDACTED}"


def test_scrub_applies_every_rule_of_the_redactor() -> None:
    text = f"{ESCAPED} {quote(ESCAPED)} Ab3d5 Wx9z sk_live_canaryKEY-Lm42"
    secrets = [ESCAPED, "Ab3d5", "Wx9z", "sk_live_canaryKEY-Lm42"]
    assert scrub(text, secrets) == f"{REDACTED} {REDACTED} {REDACTED} Wx9z sk_live_{REDACTED}"
