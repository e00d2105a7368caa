"""Errors of typed views as RFC 9457 ``application/problem+json``, and their formatters.

Binding a typed view's parameters raises one of three HTTP errors, each an
``HTTPException`` (so ``errorhandler(422)`` can answer it as any other):
:class:`RequestValidationError` (422, with every failing parameter),
:class:`MalformedBody` (400, the body is not JSON) and :class:`UnsupportedBody`
(415, the body is not of a JSON content type). Their body comes from the app's
``problem_formatter``: :class:`ProblemFormatter` (RFC 9457) by default, or
:class:`FastAPIFormatter` (FastAPI's ``{"detail": [...]}``) for a port from FastAPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ..exceptions import BadRequest, HTTPException, UnprocessableEntity, UnsupportedMediaType


class ProblemError(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One failing parameter: where it is (in, loc; for the body, pointer: a JSON Pointer
    into it) and what is wrong (type, msg)."""

    in_: str = msgspec.field(name="in")
    loc: list[str | int]
    pointer: str | None = None
    type: str
    msg: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Problem details (RFC 9457): what is wrong with the request.

    The body of the errors of typed routes; name it in responses= to document
    an error response of your own.
    """

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] | None = None


def media_type(model: Any) -> str:
    """The media type a model's JSON is sent as: RFC 9457's for a :class:`Problem`."""
    return "application/problem+json" if model is Problem else "application/json"


class ProblemException(HTTPException):
    """An HTTP error whose body the app's problem formatter writes."""

    def __init__(
        self,
        description: str | None = None,
        errors: Sequence[ProblemError] = (),
        formatter: ProblemFormatter | None = None,
    ) -> None:
        super().__init__(description)
        self.errors = list(errors)
        #: Who writes the body; ``None``: the app's ``problem_formatter``, set when the
        #: app answers the error (or RFC 9457's outside a request).
        self.formatter = formatter

    def get_body(self, *args: Any, **kwargs: Any) -> bytes:  # type: ignore[override]
        """The body, as the formatter writes it."""
        return (self.formatter or _RFC9457).body(self)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """``Content-Type``: the formatter's media type."""
        return [("Content-Type", (self.formatter or _RFC9457).media_type)]


class RequestValidationError(ProblemException, UnprocessableEntity):
    """422: parameters that do not validate (``errors`` lists every one)."""

    description = "The request's parameters do not validate."


class MalformedBody(ProblemException, BadRequest):
    """400: a body that should be JSON and is not."""

    description = "The body is not valid JSON."


class UnsupportedBody(ProblemException, UnsupportedMediaType):
    """415: a body whose content type the view does not take."""

    description = "The body must be JSON (Content-Type: application/json)."


class ProblemFormatter:
    """Writes microasgi's errors on typed routes, and describes them (for the API spec).

    Replace it on the app (``app.problem_formatter = MyFormatter()``) to change
    both. This one writes RFC 9457 ``application/problem+json``.
    """

    media_type = "application/problem+json"

    def content(self, exc: ProblemException) -> Any:
        """The error body as a JSON-able value."""
        return Problem(
            type="about:blank",
            title=exc.name,
            status=exc.code or 500,
            detail=exc.description,
            errors=exc.errors or None,
        )

    def body(self, exc: ProblemException) -> bytes:
        """The error body as JSON bytes."""
        return msgspec.json.encode(self.content(exc))

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the error body (for the API spec)."""
        return msgspec.json.schema(Problem)


_RFC9457 = ProblemFormatter()


class _FastAPIError(msgspec.Struct):
    loc: list[str | int]
    msg: str
    type: str


class _FastAPIDetail(msgspec.Struct):
    detail: list[_FastAPIError] | str


class FastAPIFormatter(ProblemFormatter):
    """FastAPI's error shape, ``{"detail": [{"loc", "msg", "type"}]}`` (422), for ports.

    Errors without a list of failures (400, 415) are ``{"detail": "message"}``.
    """

    media_type = "application/json"

    def content(self, exc: ProblemException) -> Any:
        if exc.errors:
            return _FastAPIDetail([_FastAPIError(e.loc, e.msg, e.type) for e in exc.errors])
        return _FastAPIDetail(exc.description or exc.name)

    def schema(self) -> dict[str, Any]:
        return msgspec.json.schema(_FastAPIDetail)
