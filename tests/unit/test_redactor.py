"""Two filters' contracts, rule by rule, with canary values and exact outputs.

``reconciler.scrubbing.Scrubber`` (``scrub``) cleans foreign text at the door (API
answers that may echo a request): fragments of 8+ characters, any case. The final
output filter, ``reconciler.secrets.Redactor``, matches whole values and their
encodings only, so it can't censor what the tool wrote (the last section).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from reconciler.scrubbing import Scrubber, scrub
from reconciler.secrets import REDACTED, Redactor, Secret

SECRET = "canaryFrag-Zq81xW"  # mixed case, 17 characters
SPECIAL = 'canary pass/word+&=?"\\é-Lm42'  # characters every escaping changes


def redactor_of(*secrets: str) -> Scrubber:
    redactor = Scrubber()
    for secret in secrets:
        redactor.add_secret(secret)
    return redactor


def test_a_fragment_of_8_characters_is_caught_and_one_of_7_is_not() -> None:
    redactor = redactor_of(SECRET)
    assert redactor.redact(f"cut: {SECRET[3:11]}…") == f"cut: {REDACTED}…"
    assert redactor.redact(f"cut: {SECRET[3:10]}…") == f"cut: {SECRET[3:10]}…"
    assert redactor.redact(f"end: …{SECRET[-8:]}") == f"end: …{REDACTED}"
    assert redactor.redact(f"end: …{SECRET[-7:]}") == f"end: …{SECRET[-7:]}"


@pytest.mark.parametrize("echo", [str.upper, str.lower, str.swapcase])
def test_case_changed_echoes_are_caught(echo: object) -> None:
    assert callable(echo)
    redactor = redactor_of(SECRET)
    assert redactor.redact(f"[{echo(SECRET)}]") == f"[{REDACTED}]"
    assert redactor.redact(f"[{echo(SECRET[:8])}]") == f"[{REDACTED}]"


def covered(prefix: bytes, secret: bytes) -> tuple[int, int]:
    """The base64 characters that depend on the secret's bits only."""
    start = -(-8 * len(prefix) // 6)
    return start, 8 * (len(prefix) + len(secret)) // 6


@pytest.mark.parametrize("lead", [0, 1, 2, 3, 4, 5])
def test_base64_at_every_alignment_inside_a_longer_blob(lead: int) -> None:
    redactor = redactor_of(SECRET)
    prefix = b"Basic user:"[: 6 + lead]
    # a trailing byte with high bits set: the partial last character then differs from the
    # zero-filled one of the padded form, and the redacted span is exactly the covered part
    blob = base64.b64encode(prefix + SECRET.encode() + b"\xfe&trailing=data").decode()
    start, end = covered(prefix, SECRET.encode())
    assert redactor.redact(blob) == blob[:start] + REDACTED + blob[end:]


@pytest.mark.parametrize("lead", [b"", b"x", b"xy"])
def test_base64_of_the_secret_alone_padded_or_not(lead: bytes) -> None:
    redactor = redactor_of(SECRET)
    encoded = base64.b64encode(lead + SECRET.encode()).decode()
    start, _ = covered(lead, SECRET.encode())
    assert encoded.endswith("=") or lead  # the padded case is exercised
    assert redactor.redact(encoded) == encoded[:start] + REDACTED
    assert redactor.redact(encoded.rstrip("=")) == encoded[:start] + REDACTED


def test_url_safe_base64() -> None:
    secret = "canary~~~secret???"  # its base64 holds "+" and "/"
    standard = base64.b64encode(secret.encode()).decode()
    url_safe = base64.urlsafe_b64encode(secret.encode()).decode()
    assert "+" in standard and "/" in standard and url_safe != standard
    redactor = redactor_of(secret)
    for encoded in (standard, url_safe, url_safe.rstrip("=")):
        assert redactor.redact(f"token={encoded};") == f"token={REDACTED};"


def test_hex_lower_and_upper_case() -> None:
    redactor = redactor_of(SECRET)
    hexed = SECRET.encode().hex()
    assert redactor.redact(f"dump {hexed} end") == f"dump {REDACTED} end"
    assert redactor.redact(f"dump {hexed.upper()} end") == f"dump {REDACTED} end"
    assert redactor.redact(f"dump {hexed[:8]} end") == f"dump {REDACTED} end"


@pytest.mark.parametrize("encode", [lambda s: quote(s, safe=""), quote, quote_plus])
def test_url_encoded_forms(encode: object) -> None:
    assert callable(encode)
    encoded = encode(SPECIAL)
    assert isinstance(encoded, str) and encoded != SPECIAL
    redactor = redactor_of(SPECIAL)
    assert redactor.redact(f"a=1&client_secret={encoded}&b=2") == (
        f"a=1&client_secret={REDACTED}&b=2"
    )


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_json_escaped_form_of_a_secret_with_quote_and_backslash(ensure_ascii: bool) -> None:
    redactor = redactor_of(SPECIAL)
    body = json.dumps({"client_secret": SPECIAL}, ensure_ascii=ensure_ascii)
    assert redactor.redact(body) == f'{{"client_secret": "{REDACTED}"}}'


def test_secrets_sharing_a_prefix_are_redacted_together() -> None:
    short, long = "canary-shared-01", "canary-shared-01-and-a-longer-tail-X7"
    for order in ((short, long), (long, short)):
        redactor = redactor_of(*order)
        assert redactor.redact(f"<{long}>") == f"<{REDACTED}>"
        assert redactor.redact(f"<{short}>") == f"<{REDACTED}>"
    # a secret scrubbed whole only, and a longer one starting with it
    redactor = redactor_of("cnry42", "cnry42-much-longer-secret")
    assert redactor.redact("<cnry42-much-longer-secret>") == f"<{REDACTED}>"
    assert redactor.redact("<cnry42>") == f"<{REDACTED}>"


def test_overlapping_hits_merge_and_touching_ones_do_not() -> None:
    first, second = "canary-first-A1b2", "canary-second-C3d4"
    redactor = redactor_of(first, second)
    assert redactor.redact(first + second) == REDACTED * 2
    assert redactor.redact(f"{first} {second}") == f"{REDACTED} {REDACTED}"
    # two secrets overlapping in the text ("A1b2" is the end of one, the start of the other)
    third = "A1b2-second-tail9"
    redactor.add_secret(third)
    assert redactor.redact(f"<{first[:13]}{third}>") == f"<{REDACTED}>"


@pytest.mark.parametrize("prefix", ["sk_test_", "sk_live_"])
def test_an_api_key_keeps_its_prefix_only(prefix: str) -> None:
    key = f"{prefix}canaryAPIkey-Q5r4"
    redactor = Scrubber()
    redactor.add_secret(Secret(key))
    assert redactor.redact(f"Bearer {key}") == f"Bearer {prefix}{REDACTED}"
    assert redactor.redact(f"keys look like {prefix}…") == f"keys look like {prefix}…"
    assert redactor.redact("sk_test_ and sk_live_") == "sk_test_ and sk_live_"
    assert redactor.redact("got canaryAP…") == f"got {REDACTED}…"  # 8 of the random part
    assert redactor.redact("header c2tfdGVzdF9j") == "header c2tfdGVzdF9j"  # base64 of the prefix


def test_plain_values_are_redacted_whole_only() -> None:
    url = "https://crm.acme.example/oauth/token"
    redactor = Scrubber()
    redactor.add_value(url)
    assert redactor.redact(f"POST {url} failed") == f"POST {REDACTED} failed"
    assert redactor.redact(json.dumps({"u": url})) == f'{{"u": "{REDACTED}"}}'
    other = "https://crm.acme.example/api/v2 and https://crm.acme.other/oauth/token"
    assert redactor.redact(other) == other
    assert redactor.redact(url[:-1]) == url[:-1]  # not whole: left as is
    assert redactor.redact(url.upper()) == url.upper()  # exact only
    path = "C:\\secrets\\token.txt"  # its JSON form doubles the backslashes
    redactor.add_value(path)
    assert redactor.redact(json.dumps(f"at {path}")) == f'"at {REDACTED}"'


def test_many_plain_values_sharing_a_prefix() -> None:
    redactor = Scrubber()
    values = [f"https://crm.acme.example/{'x' * size}" for size in range(1, 300, 2)]
    for value in values:
        redactor.add_value(value)
    assert redactor.redact(f"<{values[-1]}>") == f"<{REDACTED}>"
    assert redactor.redact(f"<{values[3]}>") == f"<{REDACTED}>"
    # 4 x's is no value, but its first 3 are one: the longest whole value found wins
    assert redactor.redact("<https://crm.acme.example/xxxx>") == f"<{REDACTED}x>"
    assert redactor.redact("<https://crm.acme.example/>") == "<https://crm.acme.example/>"


def test_boundary_lengths() -> None:
    redactor = Scrubber()
    for value in ("ab12", "Ab3d5", "Ab3d5f", "Ab3d5f7", "Ab3d5f7h"):
        redactor.add_secret(value)
    redactor.add_value("zz99")
    text = "ab12 zz99 Ab3d5 Ab3d5f Ab3d5f7 Ab3d5f7h"
    # every secret of 5+ is redacted whole; "Ab3d5" inside the others merges with them
    assert redactor.redact(text) == f"ab12 zz99 {REDACTED} {REDACTED} {REDACTED} {REDACTED}"
    short = redactor_of("Ab3d5f7")
    assert short.redact("Ab3d5f Ab3d5f7x AB3D5F7") == f"Ab3d5f {REDACTED}x AB3D5F7"
    assert short.redact(quote_plus("Ab d5f7")) == quote_plus("Ab d5f7")  # not registered
    spaced = redactor_of("Ab d5f7")
    assert spaced.redact(f"s={quote_plus('Ab d5f7')}") == f"s={REDACTED}"
    eight = redactor_of("Ab3d5f7h")
    assert eight.redact("xAB3D5F7Hx") == f"x{REDACTED}x"  # 8: caught by fragment, any case
    assert eight.redact("Ab3d5f7") == "Ab3d5f7"
    assert eight.redact(b"Ab3d5f7h".hex()) == REDACTED


def test_case_folding_keeps_indexes_aligned() -> None:
    redactor = redactor_of(SECRET)
    # "İ".lower() is two characters: a naive lower() would shift every index after it
    text = f"İİİ ß {SECRET} é"
    assert redactor.redact(text) == f"İİİ ß {REDACTED} é"
    accented = redactor_of("canary-é-secret-Zz")
    assert accented.redact("CANARY-é-SECRET-ZZ") == REDACTED
    # non-ASCII characters match exactly: "É" is not "é"; the ASCII run after it is caught
    assert accented.redact("CANARY-É-SECRET-ZZ") == f"CANARY-É{REDACTED}"


def test_scrub_is_the_scrubber() -> None:
    text = f"{SECRET} {SPECIAL} sk_test_canaryKEY-Lm42 short"
    secrets = [SECRET, SPECIAL, "sk_test_canaryKEY-Lm42", "short"]
    assert scrub(text, secrets) == redactor_of(*secrets).redact(text)
    assert scrub(text, secrets) == f"{REDACTED} {REDACTED} sk_test_{REDACTED} {REDACTED}"
    assert scrub(text, []) == text


def test_empty_and_aliases() -> None:
    redactor = Scrubber()
    assert redactor.empty and redactor.redact("anything") == "anything"
    redactor.add(None)
    redactor.add("")
    redactor.add("abcd")
    redactor.add_value(None)
    assert redactor.empty
    redactor.add(Secret("canary-via-add-1"))
    assert not redactor.empty
    assert redactor.redact("canary-via-add-1") == REDACTED


class CountingSet(set[str]):
    lookups = 0

    def __contains__(self, item: object) -> bool:
        CountingSet.lookups += 1
        return super().__contains__(item)


def test_work_is_one_lookup_per_character_whatever_the_number_of_secrets() -> None:
    redactor = redactor_of(*(f"secret-{i:05d}-value" for i in range(5000)))
    redactor._windows = CountingSet(redactor._windows)
    filler = "an ordinary log line with ids 12345 and words, " * 21_000
    text = filler[:500_000] + "secret-04999-value" + filler[:500_000]
    CountingSet.lookups = 0
    assert redactor.redact(text) == filler[:500_000] + REDACTED + filler[:500_000]
    assert CountingSet.lookups == len(text) - 7


# --- the output filter: whole values and their encodings only -----------------------------

WHOLE = 'canary "Whole"/é+&=-Zq81'  # every escaping and case change alters it


def whole_of(*values: str) -> Redactor:
    redactor = Redactor()
    for value in values:
        redactor.add_secret(value)
    return redactor


def _b64_forms(value: str) -> list[str]:
    """The value's base64 at the end of an encoded text, after 0, 1 or 2 leading bytes
    (standard and URL-safe, padded)."""
    forms = []
    for lead in (b"", b"x", b"xy"):
        start, _ = covered(lead, value.encode())
        encoded = base64.b64encode(lead + value.encode()).decode()[start:]
        forms += [encoded, encoded.translate(str.maketrans("+/", "-_"))]
    return forms


WHOLE_FORMS = {
    "as-sent": WHOLE,
    "lower": WHOLE.lower(),
    "upper": WHOLE.upper(),
    "json-ascii": json.dumps(WHOLE)[1:-1],
    "json-utf8": json.dumps(WHOLE, ensure_ascii=False)[1:-1],
    "json-upper": json.dumps(WHOLE.upper())[1:-1],
    "quote-safe-none": quote(WHOLE, safe=""),
    "quote": quote(WHOLE),
    "quote-plus": quote_plus(WHOLE),
    "repr": repr(WHOLE)[1:-1],
    "repr-bytes": repr(WHOLE.encode())[2:-1],
    "hex": WHOLE.encode().hex(),
    "hex-upper": WHOLE.encode().hex().upper(),
    **{f"base64-{i}": form for i, form in enumerate(_b64_forms(WHOLE))},
}


@pytest.mark.parametrize("form", sorted(WHOLE_FORMS))
def test_the_output_filter_hides_a_whole_value_in_each_encoding(form: str) -> None:
    encoded = WHOLE_FORMS[form]
    assert whole_of(WHOLE).redact(f"a=1&s={encoded}&b=2") == f"a=1&s={REDACTED}&b=2"


@pytest.mark.parametrize("form", sorted(WHOLE_FORMS))
def test_the_output_filter_hides_no_fragment_of_a_value(form: str) -> None:
    encoded = WHOLE_FORMS[form]
    redactor = whole_of(WHOLE)
    # a base64 form's last characters depend on what follows the value: the characters
    # that depend on the value alone are the whole value there, so only cut its start
    base64_form = form.startswith("base64")
    parts = (
        (encoded[1:], encoded[-8:])
        if base64_form
        else (encoded[:-1], encoded[1:], encoded[:8], encoded[-8:])
    )
    for part in parts:
        assert redactor.redact(f"<{part}>") == f"<{part}>", part


def test_a_secret_sharing_words_with_the_plan_changes_nothing_else() -> None:
    """A secret that shares words with plain values masks none of them (the 8-character
    windows of the scrubber would): a reviewer reads every change."""
    secret = "account-eu-production-Zq81"
    redactor = whole_of(secret)
    plan = '~ config.account: "account-eu" → "account-eu-production"\n  description: Zq81'
    assert redactor.redact(plan) == plan
    assert redactor.redact(f"leak {secret}.") == f"leak {REDACTED}."
    # the scrubber, for foreign text only, would hide them
    assert scrub(plan, [secret]) != plan


def test_the_output_filter_takes_the_api_key_whole_with_its_prefix() -> None:
    key = "sk_test_canaryAPIkey-Q5r4"
    redactor = Redactor()
    redactor.add_secret(Secret(key))
    assert redactor.redact(f"Bearer {key}") == f"Bearer {REDACTED}"
    assert redactor.redact(f"Bearer {key.upper()}") == f"Bearer {REDACTED}"
    assert redactor.redact("keys look like sk_test_…") == "keys look like sk_test_…"
    assert redactor.redact("got canaryAP…") == "got canaryAP…"  # a fragment: left


def test_the_output_filter_ignores_values_of_4_characters_or_fewer() -> None:
    redactor = whole_of("ab12", "Ab3d5", "Ab3d5f7h")
    # "Ab3d5" inside the others is hidden with them
    assert redactor.redact("ab12 Ab3d5 Ab3d5f7h Ab3d5f7") == (
        f"ab12 {REDACTED} {REDACTED} {REDACTED}f7"
    )
    assert whole_of("ab12", "", "abc").empty


def test_the_output_filter_merges_overlapping_values_and_keeps_touching_ones_apart() -> None:
    first, second, third = "canary-first-A1b2", "canary-second-C3d4", "A1b2-second-tail9"
    redactor = whole_of(first, second, third)
    assert redactor.redact(first + second) == REDACTED * 2
    assert redactor.redact(f"<{first[:13]}{third}>") == f"<{REDACTED}>"
    assert redactor.redact(f"<{first[1:-4]}{third}>") == f"<{first[1:-4]}{REDACTED}>"


def test_the_output_filter_learns_a_value_once() -> None:
    redactor = Redactor()
    assert redactor.empty and redactor.redact("anything") == "anything"
    redactor.add(Secret("canary-via-add-1"))
    redactor.add("canary-via-add-1")
    assert not redactor.empty
    assert redactor.redact("canary-via-add-1 canary-via-add-") == f"{REDACTED} canary-via-add-"
