"""Secret values that cannot leak by accident.

A ``Secret`` never shows its value in ``str``/``repr``/f-strings; code that
must send it calls ``reveal()``. Only the last 4 characters, which the API
itself returns as ``redacted_client_secret``, are ever shown.
"""

from __future__ import annotations

import hashlib
import hmac


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

    def digest(self, salt: bytes) -> str:
        """A salted digest, to check later that the value is unchanged."""
        return hmac.new(salt, self._value.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Secret(ends …{self.last4})"

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


class Redactor:
    """Scrubs known secret values (client secrets, the API key) out of text.

    Defence in depth for text that is not built by us: API error messages
    that echo a request, log records of libraries.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | Secret | None) -> None:
        plain = value.reveal() if isinstance(value, Secret) else value
        if plain and len(plain) >= 6:
            self._values.add(plain)

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text
