"""Secret values: masked everywhere, digests, the output filter (whole values) and the
scrubbing of foreign text (fragments too)."""

from __future__ import annotations

import json

from reconciler.scrubbing import Scrubber, scrub
from reconciler.secrets import REDACTED, Redactor, Secret, masked


def test_secret_never_shows_its_value() -> None:
    secret = Secret("canary-value-1234")
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}"):
        assert "canary" not in text
        assert "1234" in text
    assert secret.reveal() == "canary-value-1234"
    assert secret.digest(b"salt") != secret.digest(b"other salt")
    assert secret == Secret("canary-value-1234") and secret != Secret("other")
    assert masked("1234") == "(sensitive, ends …1234)" and masked(None) == "(sensitive)"


def test_redactor_hides_whole_values_and_their_json_escaped_forms() -> None:
    redactor = Redactor()
    redactor.add(Secret('with"quote-9876'))
    redactor.add("sk_test_abcdef")  # the API key is registered whole, its prefix included
    redactor.add("short")  # 5 characters: hidden whole
    redactor.add("tiny")  # 4 characters: all of it is its last 4, shown by design
    redactor.add(None)
    text = 'body {"s": "with\\"quote-9876"} key sk_test_abcdefsk_test_abcdef short shor tiny'
    assert redactor.redact(text) == (
        f'body {{"s": "{REDACTED}"}} key {REDACTED}{REDACTED} {REDACTED} shor tiny'
    )
    # no fragment of a value is hidden: not the key's random part alone, not a cut echo
    assert redactor.redact('abcdef with"quote-98') == 'abcdef with"quote-98'


def test_scrubber_scrubs_plain_and_json_escaped_values() -> None:
    scrubber = Scrubber()
    scrubber.add(Secret('with"quote-9876'))
    scrubber.add("sk_test_abcdef")  # the key's prefix is not secret: "abcdef" is, whole
    scrubber.add("short")  # 5 characters: scrubbed whole, never by fragment
    scrubber.add("tiny")  # 4 characters: all of it is its last 4, shown by design
    scrubber.add(None)
    text = 'body {"s": "with\\"quote-9876"} key sk_test_abcdefsk_test_abcdef short shor tiny'
    assert scrubber.redact(text) == (
        f'body {{"s": "{REDACTED}"}} key sk_test_{REDACTED}sk_test_{REDACTED} {REDACTED} shor tiny'
    )


def test_redactor_with_many_secrets_sharing_a_prefix() -> None:
    redactor = Redactor()
    scrubber = Scrubber()
    values = [f"secret-value-{i:05d}" for i in range(5000)]
    for value in values:
        redactor.add(value)
        scrubber.add(value)
    line = " ".join(values[::97])
    assert redactor.redact(line) == " ".join([REDACTED] * len(values[::97]))
    assert scrubber.redact(line) == " ".join([REDACTED] * len(values[::97]))
    # the stem every secret shares is no value: the output filter leaves it; foreign text
    # loses it (a fragment of 8+ characters of each), the rest is no one's
    assert redactor.redact("secret-value-99999x") == "secret-value-99999x"
    assert scrubber.redact("secret-value-99999x") == f"{REDACTED}99999x"


def test_scrub_catches_escaped_and_truncated_echoes() -> None:
    secret = "p@ss word/with+chars"
    echoed = json.dumps({"client_secret": secret}) + " " + secret[:10]
    cleaned = scrub(echoed, [secret])
    assert "p@ss" not in cleaned
    assert scrub("abcd", ["abcd"]) == "abcd"  # 4 characters: its last 4, shown by design
