"""HTTP errors: the one exception tree of microasgi.

Every error a view, a hook or the framework can answer with is an
:class:`HTTPException` carrying a status ``code``, a human ``description`` and
optional extra ``headers``::

    HTTPException
     ├── BadRequest (400)
     │    ├── BadRequestKeyError      missing key in request.form / request.args
     │    └── SecurityError            untrusted Host header and similar
     ├── Unauthorized (401) … NotFound (404), MethodNotAllowed (405), …
     ├── RequestEntityTooLarge (413), UnsupportedMediaType (415), …
     ├── RequestRedirect (308)        raised by the router for strict slashes
     └── InternalServerError (500) …

Error handlers are looked up by status code first, then by the exception's
class hierarchy (most specific class wins), a blueprint's before the app's.

Ported Flask code often raises ``werkzeug.exceptions`` directly; when werkzeug
is installed those are honoured too (see :func:`coerce_http_exception`).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .responses import Response


class HTTPException(Exception):
    """An HTTP error response, raised from anywhere a request is handled.

    ``raise NotFound("No such user")`` answers 404 with that description, unless
    an error handler for 404 (or for ``NotFound``) answers instead.
    """

    #: ``None`` on the base class and on user subclasses meant to group others
    #: (``@app.errorhandler(APIError)`` then catches every subclass, whatever its code).
    code: int | None = None
    description: str = "The server encountered an error."

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        headers: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(description)
        if description is not None:
            self.description = description
        self.response = response
        self.headers: list[tuple[str, str]] = list(headers or ())

    @property
    def name(self) -> str:
        """The status phrase, such as ``"Not Found"``."""
        return _phrase(self.code or 500)

    def get_body(self) -> str:
        """The small HTML page sent when no error handler answers."""
        description = self.description
        if not isinstance(description, str):  # abort(400, description={...}), say
            description = str(description)
        return _error_page(self.code, self.name, description)

    def get_headers(self) -> list[tuple[str, str]]:
        """Headers of the default response: content type plus any extras."""
        return [("Content-Type", "text/html; charset=utf-8"), *self.headers]

    def get_response(self) -> Response:
        """The response for this error (``self.response`` when one was given)."""
        if self.response is not None:
            return self.response
        response_class = _response_class()
        if type(self).get_headers is HTTPException.get_headers and not self.headers:
            # The common case (a plain 404, say): no header to check or parse.
            response = response_class._ready(self.get_body().encode())
            response.status_code = self.code or 500
            return response
        return response_class(self.get_body(), self.code or 500, self.get_headers())

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self}'>"


@functools.cache
def _response_class() -> type[Response]:
    # Imported on first use (its module imports this one), and only once: an
    # import statement in get_response would cost every 404 about a microsecond.
    from .responses import Response

    return Response


@functools.lru_cache(maxsize=128)
def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown Error"


@functools.lru_cache(maxsize=256)  # a 404 flood costs no more than a hit
def _error_page(code: int | None, name: str, description: str) -> str:
    return (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{code} {html.escape(name)}</title>\n"
        f"<h1>{html.escape(name)}</h1>\n"
        f"<p>{html.escape(description)}</p>\n"
    )


class BadRequest(HTTPException):
    """400 Bad Request."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """A key missing from ``request.form``/``request.args``: answered as 400."""

    def __init__(self, key: object = None, description: str | None = None) -> None:
        super().__init__(description)
        self.key = key
        self.args = (key,)

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.description} (missing key {self.key!r})"


class SecurityError(BadRequest):
    """A request that is refused for safety, such as an untrusted ``Host``."""


class Unauthorized(HTTPException):
    """401; ``www_authenticate`` (a string or several) becomes ``WWW-Authenticate``."""

    code = 401
    description = "The server could not verify that you are authorized to access the URL requested."

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: str | Iterable[str] | None = None,
    ) -> None:
        super().__init__(description, response)
        if isinstance(www_authenticate, str):
            www_authenticate = [www_authenticate]
        self.www_authenticate = list(www_authenticate or ())

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        headers.extend(("WWW-Authenticate", value) for value in self.www_authenticate)
        return headers


class Forbidden(HTTPException):
    """403 Forbidden."""

    code = 403
    description = "You don't have the permission to access the requested resource."


class NotFound(HTTPException):
    """404 Not Found."""

    code = 404
    description = "The requested URL was not found on the server."


class MethodNotAllowed(HTTPException):
    """405, with an ``Allow`` header listing ``valid_methods``."""

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self, valid_methods: Iterable[str] | None = None, description: str | None = None
    ) -> None:
        super().__init__(description)
        self.valid_methods = sorted(valid_methods or ())

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    """406 Not Acceptable."""

    code = 406
    description = "The resource is not available in a format the request accepts."


class RequestTimeout(HTTPException):
    """408 Request Timeout."""

    code = 408
    description = "The server closed the network connection because the request took too long."


class Conflict(HTTPException):
    """409 Conflict."""

    code = 409
    description = "A conflict happened while processing the request."


class Gone(HTTPException):
    """410 Gone."""

    code = 410
    description = "The requested URL is no longer available on this server."


class LengthRequired(HTTPException):
    """411 Length Required."""

    code = 411
    description = "A request with this method requires a valid Content-Length header."


class PreconditionFailed(HTTPException):
    """412 Precondition Failed."""

    code = 412
    description = "The precondition on the request for the URL failed positive evaluation."


class RequestEntityTooLarge(HTTPException):
    """413 Request Entity Too Large."""

    code = 413
    description = "The data value transmitted exceeds the capacity limit."


class RequestURITooLarge(HTTPException):
    """414 Request-URI Too Long."""

    code = 414
    description = "The length of the requested URL exceeds the capacity limit for this server."


class UnsupportedMediaType(HTTPException):
    """415 Unsupported Media Type."""

    code = 415
    description = "The server does not support the media type transmitted in the request."


class RequestedRangeNotSatisfiable(HTTPException):
    """416; with ``length`` set, a ``Content-Range: bytes */length`` header is added."""

    code = 416
    description = "The server cannot provide the requested range."

    def __init__(self, length: int | None = None, description: str | None = None) -> None:
        super().__init__(description)
        self.length = length

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.length is not None:
            headers.append(("Content-Range", f"bytes */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    """417 Expectation Failed."""

    code = 417
    description = "The server could not meet the requirements of the Expect header."


class ImATeapot(HTTPException):
    """418 I'm a Teapot."""

    code = 418
    description = "This server is a teapot, not a coffee machine."


class UnprocessableEntity(HTTPException):
    """422 Unprocessable Entity."""

    code = 422
    description = (
        "The request was well-formed but was unable to be followed due to semantic errors."
    )


class Locked(HTTPException):
    """423 Locked."""

    code = 423
    description = "The resource that is being accessed is locked."


class FailedDependency(HTTPException):
    """424 Failed Dependency."""

    code = 424
    description = "The method could not be performed because the requested action depended on another action that failed."  # noqa: E501


class PreconditionRequired(HTTPException):
    """428 Precondition Required."""

    code = 428
    description = "This request is required to be conditional."


class _RetryAfter(HTTPException):
    """An error whose ``retry_after`` (seconds, or a datetime) becomes a ``Retry-After`` header."""

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: int | datetime | None = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if isinstance(self.retry_after, datetime):
            moment = self.retry_after
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            headers.append(
                ("Retry-After", format_datetime(moment.astimezone(timezone.utc), usegmt=True))
            )
        elif self.retry_after is not None:
            headers.append(("Retry-After", str(int(self.retry_after))))
        return headers


class TooManyRequests(_RetryAfter):
    """429; ``retry_after`` (seconds, or a datetime) becomes a ``Retry-After`` header."""

    code = 429
    description = "This user has exceeded an allotted request count. Try again later."


class RequestHeaderFieldsTooLarge(HTTPException):
    """431 Request Header Fields Too Large."""

    code = 431
    description = "One or more header fields exceeds the maximum size."


class UnavailableForLegalReasons(HTTPException):
    """451 Unavailable For Legal Reasons."""

    code = 451
    description = "Unavailable for legal reasons."


class InternalServerError(HTTPException):
    """500. ``original_exception`` is the unhandled error that caused it, if any."""

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete your request."
        " Either the server is overloaded or there is an error in the application."
    )

    def __init__(
        self, description: str | None = None, original_exception: BaseException | None = None
    ) -> None:
        super().__init__(description)
        self.original_exception = original_exception


class NotImplemented(HTTPException):
    """501 Not Implemented."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    """502 Bad Gateway."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(_RetryAfter):
    """503; ``retry_after`` (seconds, or a datetime) becomes a ``Retry-After`` header."""

    code = 503
    description = "The server is temporarily unable to service your request."


class GatewayTimeout(HTTPException):
    """504 Gateway Timeout."""

    code = 504
    description = "The connection to an upstream server timed out."


class HTTPVersionNotSupported(HTTPException):
    """505 HTTP Version Not Supported."""

    code = 505
    description = "The server does not support the HTTP protocol version used in the request."


class RequestRedirect(HTTPException):
    """Raised by the router when a URL must be visited elsewhere (``/x`` -> ``/x/``)."""

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        self.new_url = new_url

    def get_response(self) -> Response:
        from .responses import redirect

        return redirect(self.new_url, self.code)


#: Status code -> exception class, for :func:`abort` and handler lookup.
default_exceptions: dict[int, type[HTTPException]] = {
    cls.code: cls
    for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable,
        RequestTimeout, Conflict, Gone, LengthRequired, PreconditionFailed,
        RequestEntityTooLarge, RequestURITooLarge, UnsupportedMediaType,
        RequestedRangeNotSatisfiable, ExpectationFailed, ImATeapot, UnprocessableEntity,
        Locked, FailedDependency, PreconditionRequired, TooManyRequests,
        RequestHeaderFieldsTooLarge, UnavailableForLegalReasons, InternalServerError,
        NotImplemented, BadGateway, ServiceUnavailable, GatewayTimeout,
        HTTPVersionNotSupported,
    )
}  # fmt: skip


def abort(status: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop handling the request with an HTTP error.

    ``abort(404)`` raises :class:`NotFound`; ``abort(403, "Admins only")`` sets the
    description; ``abort(response)`` answers with that response as it is.
    """
    if isinstance(status, int):
        cls = default_exceptions.get(status)
        if cls is None:
            raise LookupError(
                f"abort() has no exception for status {status}; "
                "raise HTTPException(response=...) for a custom status."
            )
        raise cls(*args, **kwargs)
    raise HTTPException(response=status)


def coerce_http_exception(exc: BaseException) -> HTTPException | None:
    """Return ``exc`` as one of ours if it is an HTTP error, else ``None``.

    A ``werkzeug.exceptions.HTTPException`` (ported Flask code raises them) becomes
    the microasgi exception for its status, with the same description and headers,
    so handlers registered by code apply to it. werkzeug is never imported here:
    a foreign exception is recognised by its module and ``code``.
    """
    if isinstance(exc, HTTPException):
        return exc
    if not type(exc).__module__.startswith("werkzeug."):
        return None
    code = getattr(exc, "code", None)
    if not isinstance(code, int):
        return None
    new_url = getattr(exc, "new_url", None)
    if isinstance(new_url, str):  # werkzeug's RequestRedirect: a redirect to follow
        redirect = RequestRedirect(new_url)
        redirect.code = code
        redirect.__cause__ = exc
        return redirect
    cls = default_exceptions.get(code, HTTPException)
    ours = cls.__new__(cls)
    HTTPException.__init__(ours, getattr(exc, "description", None))
    ours.code = code
    # What the class's __init__ would have set (its headers are built from it).
    if code == 401:
        # werkzeug holds WWWAuthenticate objects: their str() is the header value.
        challenges = getattr(exc, "www_authenticate", None) or ()
        ours.www_authenticate = [str(value) for value in challenges]  # type: ignore[attr-defined]
    elif code == 405:
        ours.valid_methods = sorted(getattr(exc, "valid_methods", None) or ())  # type: ignore[attr-defined]
    elif code == 416:
        ours.length = getattr(exc, "length", None)  # type: ignore[attr-defined]
    elif code in (429, 503):
        ours.retry_after = getattr(exc, "retry_after", None)  # type: ignore[attr-defined]
    elif code == 500:
        ours.original_exception = getattr(exc, "original_exception", None)  # type: ignore[attr-defined]
    ours.__cause__ = exc
    return ours
