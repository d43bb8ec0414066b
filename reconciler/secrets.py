"""Secret values that cannot leak by accident.

A ``Secret`` never shows its value in ``str``/``repr``/f-strings; code that
must send it calls ``reveal()``. Only the last 4 characters, which the API
itself returns as ``redacted_client_secret``, are ever shown; no output
depends on anything else of the value (its length included).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote, quote_plus

MIN_SECRET_CHARS = 8
"""The shortest client secret accepted: its last 4 are shown, so never all of it."""
MAX_SECRET_CHARS = 4096
"""The longest client secret accepted (an OAuth client secret is some 40 to 100)."""


class Secret:
    """A resolved secret value, masked everywhere but ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value, for the request body that must carry it."""
        return self._value

    @property
    def last4(self) -> str:
        """The last 4 characters, as the API's ``redacted_client_secret``."""
        return self._value[-4:]

    @property
    def hint(self) -> str:
        """The last 4 to show (the same whatever the secret's length)."""
        return self.last4

    def digest(self, salt: bytes) -> str:
        """A salted digest, to check later that the value is unchanged."""
        return hmac.new(salt, self._value.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Secret({masked(self.hint)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def redact_key(api_key: str) -> str:
    """The API key as it may be shown: ``sk_…`` plus its last 4."""
    return f"sk_…{api_key[-4:]}" if len(api_key) >= 8 else "sk_…"


def masked(last4: str | None) -> str:
    """How a secret is shown: ``(sensitive, ends …1234)``."""
    if not last4:
        return "(sensitive)"
    return f"(sensitive, ends …{last4})"


REDACTED = "(redacted)"
SHOWN_SECRET_CHARS = 4
API_KEY_PREFIXES = ("sk_test_", "sk_live_")


class Redactor:
    """Removes known secrets (client secrets, the API key) from foreign text.

    Renderers never receive a secret (hidden by construction) and API answers
    are scrubbed as they arrive (``reconciler.scrubbing``), so what the tool
    prints and writes is not filtered: a filter there would change the output
    when a value equals a secret, and so tell whether a guess is right. This
    is the net under text the tool did not write (other libraries' log
    records).

    Only **whole values** match, in their usual encodings: as sent, lower- and
    upper-cased, JSON-escaped, URL-encoded (``quote``, ``quote_plus``), inside
    a Python ``repr`` (of the text or of its UTF-8 bytes), hex, and base64
    (standard and URL-safe; inside a longer encoded text a value's base64
    depends on its alignment, so it is taken after 0, 1 and 2 leading bytes,
    from the first character that depends on its bits only). No fragment of a
    value matches: a secret that shares a word with a description masks
    nothing. Values of ``SHOWN_SECRET_CHARS`` (4) characters or fewer are
    ignored: all of such a value is its last 4, shown by design.

    **Cost.** Memory is the forms themselves (some 10 to 60 per value).
    ``redact`` searches each form with ``str.find`` (C speed) while there are
    few, and with an index of the forms' first ``_PREFIX`` characters (one
    dictionary lookup per character of the text) when there are many. Adding
    a value already known costs one set lookup.
    """

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._forms: set[str] = set()
        self._index: dict[str, list[str]] | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is registered (``redact`` returns its text unchanged)."""
        return not self._forms

    def add_secret(self, value: str | Secret | None) -> None:
        """Protect a secret, whole and in its usual encodings."""
        plain = value.reveal() if isinstance(value, Secret) else value
        if not plain or len(plain) <= SHOWN_SECRET_CHARS or plain in self._known:
            return
        self._known.add(plain)
        forms = {form for form in _secret_forms(plain) if len(form) >= _PREFIX}
        if not forms <= self._forms:
            self._forms |= forms
            self._index = None

    add = add_secret

    def redact(self, text: str) -> str:
        """``text`` with every registered value found replaced by ``(redacted)``."""
        if not self._forms:
            return text
        spans = self._spans(text)
        if not spans:
            return text
        return redacted_spans(text, spans)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        if len(self._forms) <= _FEW_FORMS:
            spans = []
            for form in self._forms:
                start = text.find(form)
                while start != -1:
                    spans.append((start, start + len(form)))
                    start = text.find(form, start + 1)
            return spans
        index = self._index
        if index is None:
            index = self._index = {}
            for form in sorted(self._forms, key=len, reverse=True):  # longest first
                index.setdefault(form[:_PREFIX], []).append(form)
        found = []
        for position in range(len(text) - _PREFIX + 1):
            candidates = index.get(text[position : position + _PREFIX])
            if candidates:
                for form in candidates:
                    if text.startswith(form, position):
                        found.append((position, position + len(form)))
                        break
        return found


_PREFIX = SHOWN_SECRET_CHARS + 1
_FEW_FORMS = 64


def repr_forms(text: str) -> set[str]:
    """``text`` as Python prints it inside a ``repr`` of a string or of its UTF-8 bytes."""
    return {repr(text)[1:-1], repr(text.encode())[2:-1]}


def _secret_forms(secret: str) -> set[str]:
    """The whole-value forms that are redacted."""
    raw = secret.encode()
    texts = {secret, secret.lower(), secret.upper()}
    forms = set(texts)
    for text in texts:
        escaped = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
        forms |= escaped | {quote(text, safe=""), quote(text), quote_plus(text)}
        forms |= {form for each in (text, *escaped) for form in repr_forms(each)}
    forms |= {raw.hex(), raw.hex().upper()}
    # base64 after 0, 1 or 2 leading bytes: the characters that depend on the value's bits
    # only (so found inside a longer encoded text, padded or not, standard or URL-safe)
    # only (so found inside a longer encoded text, padded or not), and to the padded end
    # (a value that ends the encoded text, hidden to its last character)
    encoded = set()
    for lead in range(3):
        text = base64.b64encode(bytes(lead) + raw).decode()
        start = -(-8 * lead // 6)
        encoded |= {text[start:], text[start : 8 * (lead + len(raw)) // 6]}
    return forms | encoded | {form.translate(_URL_SAFE) for form in encoded}


_URL_SAFE = str.maketrans("+/", "-_")


def redacted_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (overlapping ones as one) replaced by ``(redacted)``."""
    parts: list[str] = []
    done = 0
    for start, end in _merged(spans):
        parts += (text[done:start], REDACTED)
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans as one; spans that only touch stay apart."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
