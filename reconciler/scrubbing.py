"""Scrubbing foreign text at the door: API answers that may echo the request.

An API error message, code or request id comes from outside: it may echo
the request it answers (its client secret, the API key), whole, escaped,
re-cased or cut short. ``scrub`` removes those values from it when the
answer arrives, fragments of 8 characters and more included, before the
text becomes part of an error. This is stronger than the final output
filter (``reconciler.secrets.Redactor``, whole values only), and may be:
it only ever sees text the tool did not write.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from reconciler.secrets import SHOWN_SECRET_CHARS, Secret, redacted_spans, repr_forms

MIN_SCRUBBED_FRAGMENT = 8
API_KEY_PREFIXES = ("sk_test_", "sk_live_")

_URL_SAFE = str.maketrans("+/", "-_")
_ASCII_FOLD = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` and their usual transforms redacted.

    A thin wrapper over :class:`Scrubber` (``add_secret`` each, then ``redact``).
    """
    scrubber = Scrubber()
    for secret in secrets:
        scrubber.add_secret(secret)
    return scrubber.redact(text)


class Scrubber:
    """Scrubs known values (client secrets, the API key) out of foreign text.

    **Secrets** (``add_secret``; ``add`` is an alias). An API key's well-known
    prefix (``sk_test_``, ``sk_live_``) is not secret: it is stripped and the
    rest is protected. A secret of ``MIN_SCRUBBED_FRAGMENT`` (8) characters or
    more is caught in its usual transforms: as sent, JSON-escaped, URL-encoded
    (``quote``, ``quote_plus``), hex, and base64 (standard and URL-safe, padded
    or not; inside a longer encoded text the secret's base64 depends on its
    alignment, so it is taken after 0, 1 and 2 leading bytes, from the first
    character that depends on the secret's bits only). Any run of 8 or more
    characters of the text that is a substring of one of these forms is
    redacted, case-insensitively, so upper- and lower-cased echoes are caught
    too. A secret of 5 to 7
    characters is only redacted whole (as sent, JSON-escaped or URL-encoded,
    exact case); one of ``SHOWN_SECRET_CHARS`` (4) or fewer never is: all of
    it is its last 4, shown by design.

    **Plain values** (``add_value``), such as a URL read through a reference,
    are redacted whole only (as is or JSON-escaped, exact case), so a URL does
    not blank every ``https://`` of the output. Values of 4 characters or
    fewer are ignored.

    **Cost.** Every 8-character window of every (case-folded) secret form is
    kept in a set. ``redact`` case-folds the text and looks each of its
    8-character windows up: one set lookup per character, whatever the number
    of secrets. A run of 8+ characters within one form has all its windows in
    the set, and each window found is itself such a run, so the union of the
    windows found is exactly the union of the matching runs: the longest match
    wins and overlapping hits merge into one ``(redacted)`` with no extension
    step. Whole values are found by an Aho-Corasick automaton (built again,
    lazily, after an add), also linear in the text. Memory is some 6 windows
    per character of secret (hex and base64 forms included) at about 85 bytes
    each: some 20 KB for a 40-character secret, 100 MB for 5,000 of them.

    Case-folding maps ASCII ``A-Z`` only (``str.lower`` on ASCII text, a
    per-character table otherwise), so indexes never shift; non-ASCII
    characters are matched exactly.
    """

    def __init__(self) -> None:
        self._windows: set[str] = set()
        self._whole: set[str] = set()
        self._automaton: Automaton | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is registered (``redact`` returns its text unchanged)."""
        return not self._windows and not self._whole

    def add_secret(self, value: str | Secret | None) -> None:
        """Protect a secret and its usual transforms (fragments of 8+ included)."""
        plain = value.reveal() if isinstance(value, Secret) else value
        if not plain:
            return
        for prefix in API_KEY_PREFIXES:
            if plain.startswith(prefix):
                plain = plain[len(prefix) :]
                break
        if len(plain) <= SHOWN_SECRET_CHARS:
            return
        if len(plain) < MIN_SCRUBBED_FRAGMENT:
            self._add_whole(_json_forms(plain) | _url_forms(plain))
            return
        size = MIN_SCRUBBED_FRAGMENT
        for form in _secret_forms(plain):
            folded = _fold(form)
            self._windows.update(folded[i : i + size] for i in range(len(folded) - size + 1))

    add = add_secret

    def add_value(self, value: str | Secret | None) -> None:
        """Protect a plain value read through a reference, as a whole value only."""
        plain = value.reveal() if isinstance(value, Secret) else value
        if plain and len(plain) > SHOWN_SECRET_CHARS:
            self._add_whole(_json_forms(plain))

    def redact(self, text: str) -> str:
        """``text`` with every registered value found replaced by ``(redacted)``."""
        if self.empty:
            return text
        spans = _fragment_spans(_fold(text), self._windows) if self._windows else []
        if self._whole:
            automaton = self._automaton or Automaton(self._whole)
            self._automaton = automaton
            spans += automaton.spans(text)
        return redacted_spans(text, spans)

    def _add_whole(self, forms: set[str]) -> None:
        if not forms <= self._whole:
            self._whole |= forms
            self._automaton = None


def _fold(text: str) -> str:
    """ASCII case-folding that keeps every character at its index."""
    return text.lower() if text.isascii() else text.translate(_ASCII_FOLD)


def _json_forms(value: str) -> set[str]:
    """The value, and as it reads inside a JSON string (ASCII-escaped or not)."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return forms | {text for form in forms for text in repr_forms(form)}


def _url_forms(value: str) -> set[str]:
    return {quote(value, safe=""), quote(value), quote_plus(value)}


def _secret_forms(secret: str) -> set[str]:
    """The forms whose 8-character fragments are redacted."""
    raw = secret.encode()
    forms = _json_forms(secret) | _url_forms(secret) | {raw.hex()}
    # base64 after 0, 1 or 2 leading bytes, from the first character that depends on the
    # secret's bits only; to the padded end, for a secret at the end of an encoded text
    encoded = {
        base64.b64encode(bytes(lead) + raw).decode()[-(-8 * lead // 6) :] for lead in range(3)
    }
    return forms | encoded | {form.translate(_URL_SAFE) for form in encoded}


def _fragment_spans(folded: str, windows: set[str]) -> list[tuple[int, int]]:
    """Runs of ``folded`` covered by known windows, overlapping ones merged."""
    size = MIN_SCRUBBED_FRAGMENT
    spans: list[tuple[int, int]] = []
    for index in range(len(folded) - size + 1):
        if folded[index : index + size] in windows:
            if spans and spans[-1][1] > index:
                spans[-1] = (spans[-1][0], index + size)
            else:
                spans.append((index, index + size))
    return spans


class Automaton:
    """Aho-Corasick over whole values: every occurrence, in one pass over the text."""

    def __init__(self, words: Iterable[str]) -> None:
        self._goto: list[dict[str, int]] = [{}]
        self._fail = [0]
        self._longest = [0]  # length of the longest word ending at a node
        for word in words:
            node = 0
            for char in word:
                if char not in self._goto[node]:
                    self._goto[node][char] = len(self._goto)
                    self._goto.append({})
                    self._fail.append(0)
                    self._longest.append(0)
                node = self._goto[node][char]
            self._longest[node] = len(word)
        queue = deque(self._goto[0].values())
        while queue:  # breadth first: a node's fail link is shallower than the node
            node = queue.popleft()
            for char, child in self._goto[node].items():
                fail = self._fail[node]
                while fail and char not in self._goto[fail]:
                    fail = self._fail[fail]
                if node:
                    self._fail[child] = self._goto[fail].get(char, 0)
                self._longest[child] = self._longest[child] or self._longest[self._fail[child]]
                queue.append(child)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The longest word ending at each position where one ends."""
        spans: list[tuple[int, int]] = []
        node = 0
        for index, char in enumerate(text):
            while node and char not in self._goto[node]:
                node = self._fail[node]
            node = self._goto[node].get(char, 0)
            if self._longest[node]:
                spans.append((index + 1 - self._longest[node], index + 1))
        return spans
