"""The error answers of the emulator: one exception type and one body shape.

Bodies are ``{"message", "code"}`` plus ``errors: [{field, code, message}]`` for
422s. Messages name fields, never echo request values (a secret could be one).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of a request."""

    field: str
    code: str
    message: str


@dataclass(eq=False)
class ApiProblem(Exception):
    """An error answer: raised by the service, turned into JSON by the app."""

    status: int
    code: str
    message: str
    errors: Sequence[FieldProblem] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.errors)


class ConnectionDropped(Exception):
    """Raised to drop a connection mid-answer (fault injection); servers close it."""


def error_body(code: str, message: str, errors: Sequence[FieldProblem] = ()) -> dict[str, Any]:
    """The JSON body of an error answer."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in errors]
    return body


def invalid(field_name: str, code: str, message: str) -> ApiProblem:
    """A 422 about one field."""
    return ApiProblem(
        422,
        "validation_error",
        f"{field_name}: {message}",
        (FieldProblem(field_name, code, message),),
    )


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "not_found", message)


def conflict(code: str, message: str) -> ApiProblem:
    return ApiProblem(409, code, message)


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def field_problems(
    errors: Iterable[Mapping[str, Any]], immutable: Collection[str] = ()
) -> list[FieldProblem]:
    """Pydantic errors as field problems: location, type and message; never the input."""
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in _LOCATIONS:
            location = location[1:]
        code = str(error.get("type", "invalid"))
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        name = ".".join(location) if code != "json_invalid" else ""
        if code == "extra_forbidden":
            if name in immutable:
                code = "immutable_field"
                message = "cannot be changed in place: delete and re-create the integration"
            else:
                message = "unknown field"
        problems.append(FieldProblem(name or "body", code, message))
    return problems


def validation_problem(problems: Sequence[FieldProblem]) -> ApiProblem:
    """A 422 listing every invalid field."""
    first = problems[0] if problems else FieldProblem("body", "invalid", "is invalid")
    message = f"{first.field}: {first.message}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return ApiProblem(422, "validation_error", message, tuple(problems))
