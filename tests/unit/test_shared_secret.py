"""One secret behind many references: work done once, and nothing formatted for no one."""

from __future__ import annotations

import pytest

from reconciler import secrets
from reconciler.cli.runtime import run
from reconciler.secrets import REDACTED, Redactor

SECRET = "bench-client-secret-7f3a"


def test_the_same_secret_added_again_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 references to one secret: its forms are computed once, not per reference."""
    computed: list[str] = []
    forms = secrets._secret_forms

    def counted(plain: str) -> set[str]:
        computed.append(plain)
        return forms(plain)

    monkeypatch.setattr(secrets, "_secret_forms", counted)
    redactor = Redactor()
    for _ in range(1_000):
        redactor.add_secret(SECRET)
    redactor.add_secret(secrets.Secret(SECRET))
    assert computed == [SECRET]
    redactor.add_secret("another-secret-value-9c2e")
    assert len(computed) == 2
    text = f"a={SECRET} b=another-secret-value-9c2e c={SECRET.upper()}"
    assert redactor.redact(text) == f"a={REDACTED} b={REDACTED} c={REDACTED}"


class _NotToBeFormatted:
    """A result whose repr must not be built (a whole plan, in the CLI)."""

    def __init__(self) -> None:
        self.formatted = 0

    def __repr__(self) -> str:
        self.formatted += 1  # counted: reprlib swallows what a repr raises
        return "_NotToBeFormatted()"


def test_run_hands_the_result_over_without_formatting_it() -> None:
    """``asyncio.run`` reprs its main task on leaving (through the SIGINT handler's
    ``partial``): the CLI's ``run`` keeps the result out of that task."""
    result = _NotToBeFormatted()

    async def main() -> _NotToBeFormatted:
        return result

    assert run(main()) is result
    assert result.formatted == 0


def test_run_raises_what_the_coroutine_raises() -> None:
    async def main() -> int:
        raise ValueError("from the coroutine")

    with pytest.raises(ValueError, match="from the coroutine"):
        run(main())
