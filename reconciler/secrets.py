"""Secret values that cannot leak by accident.

A ``Secret`` never shows its value in ``str``/``repr``/f-strings; code that
must send it calls ``reveal()``. Only the last 4 characters, which the API
itself returns as ``redacted_client_secret``, are ever shown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MIN_HINTED_LENGTH = 8


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
    def hint(self) -> str | None:
        """The last 4 to show, or None when the secret is too short to show any of it."""
        return self.last4 if len(self._value) >= MIN_HINTED_LENGTH else None

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


def masked(last4: str | None) -> str:
    """How a secret is shown: ``(sensitive, ends …1234)``."""
    if not last4:
        return "(sensitive)"
    return f"(sensitive, ends …{last4})"


REDACTED = "(redacted)"
SHOWN_SECRET_CHARS = 4
MIN_SCRUBBED_FRAGMENT = 8


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``(redacted)``.

    Caught as sent, JSON- or URL-escaped, and cut short: the first
    ``MIN_SCRUBBED_FRAGMENT`` characters or more of one (an echo of a request
    truncated mid-secret).
    """
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) <= SHOWN_SECRET_CHARS:  # all of it is its last 4: shown by design
            continue
        forms.update(
            (
                secret,
                json.dumps(secret)[1:-1],
                json.dumps(secret, ensure_ascii=False)[1:-1],
                quote(secret, safe=""),
                quote_plus(secret),
            )
        )
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    for form in sorted(forms, key=len, reverse=True):
        for size in range(len(form) - 1, MIN_SCRUBBED_FRAGMENT - 1, -1):
            if form[:size] in text:
                text = text.replace(form[:size], REDACTED)
                break
    return text


class Redactor:
    """Scrubs known secret values (client secrets, the API key) out of text.

    Defence in depth for text that is not built by us: API error messages
    that echo a request, log records of libraries. Values are found by an
    index of their first characters, so the cost is linear in the text
    whatever the number of secrets (an apply may hold thousands).
    """

    PREFIX = 6

    def __init__(self) -> None:
        # first characters -> [(length, forms of that length)], longest first
        self._index: dict[str, list[tuple[int, set[str]]]] = {}

    def add(self, value: str | Secret | None) -> None:
        plain = value.reveal() if isinstance(value, Secret) else value
        if not plain or len(plain) < self.PREFIX:
            return
        for form in {plain, json.dumps(plain)[1:-1]}:
            by_length = self._index.setdefault(form[: self.PREFIX], [])
            for length, forms in by_length:
                if length == len(form):
                    forms.add(form)
                    break
            else:
                by_length.append((len(form), {form}))
                by_length.sort(reverse=True, key=lambda entry: entry[0])

    def redact(self, text: str) -> str:
        if not self._index:
            return text
        parts: list[str] = []
        start = index = 0
        last = len(text) - self.PREFIX
        while index <= last:
            for length, forms in self._index.get(text[index : index + self.PREFIX], ()):
                if text[index : index + length] in forms:
                    parts += (text[start:index], REDACTED)
                    index = start = index + length
                    break
            else:
                index += 1
        parts.append(text[start:])
        return "".join(parts)
