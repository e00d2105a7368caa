"""HTTP errors: Werkzeug's exception tree, as Flask uses it.

Every name here *is* Werkzeug's class (``microasgi.exceptions.NotFound is
werkzeug.exceptions.NotFound``), so code and extensions written for Flask raise,
catch and type-check the classes they expect::

    HTTPException
     ├── BadRequest (400)
     │    ├── BadRequestKeyError      missing key in request.form / request.args
     │    ├── ClientDisconnected      the client left before its body was read
     │    │    └── ClientGone         microasgi's: the connection is closed, answer nothing
     │    └── SecurityError           an untrusted Host header and similar
     ├── Unauthorized (401) … NotFound (404), MethodNotAllowed (405), …
     ├── RequestEntityTooLarge (413), UnsupportedMediaType (415), …
     ├── RequestRedirect (308)        raised by the router for strict slashes
     └── InternalServerError (500) …

Any ``HTTPException`` raised anywhere a request is handled (a view, a hook, an
error handler, an extension's ``before_request``) becomes its response (see
:func:`microasgi.wrappers.response.error_response`). Error handlers are looked up by
status code first, then by the exception's class hierarchy (most specific class
wins), a blueprint's before the app's. The one class microasgi adds,
:class:`ClientGone`, is not answered: nobody is left to read it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from werkzeug.exceptions import (
    BadGateway,
    BadHost,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnected,
    Conflict,
    ExpectationFailed,
    FailedDependency,
    Forbidden,
    GatewayTimeout,
    Gone,
    HTTPException,
    HTTPVersionNotSupported,
    ImATeapot,
    InternalServerError,
    LengthRequired,
    Locked,
    MethodNotAllowed,
    MisdirectedRequest,
    NotAcceptable,
    NotFound,
    NotImplemented,
    PreconditionFailed,
    PreconditionRequired,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    RequestURITooLarge,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnavailableForLegalReasons,
    UnprocessableEntity,
    UnsupportedMediaType,
    default_exceptions,
)
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.routing import RequestRedirect


class ClientGone(ClientDisconnected, OSError):
    """The client closed the connection before the exchange was over.

    Raised where microasgi reads a request body (``await request.get_data()``,
    ``request.stream``, a mounted WSGI app's ``wsgi.input``) or a WSGI app writes
    its response, once the client has left. The app then stops handling the
    request and answers nothing (teardown still runs; error handlers do not).

    Werkzeug's :class:`ClientDisconnected`, which a Flask app under a WSGI server
    gets for a cut upload, and an ``OSError``, as a socket error would be, so code
    that cleans up after either (Django's ``UnreadablePostError``) does so here too.
    """


def abort(status: int | Any, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop handling the request with an HTTP error, as Flask's ``abort``.

    ``abort(404)`` raises :class:`NotFound`; ``abort(403, "Admins only")`` sets the
    description; ``abort(response)`` answers with that response as it is.
    """
    if not isinstance(status, int):
        raise HTTPException(response=status)
    _werkzeug_abort(status, *args, **kwargs)


__all__ = [
    "BadGateway",
    "BadHost",
    "BadRequest",
    "BadRequestKeyError",
    "ClientDisconnected",
    "ClientGone",
    "Conflict",
    "ExpectationFailed",
    "FailedDependency",
    "Forbidden",
    "GatewayTimeout",
    "Gone",
    "HTTPException",
    "HTTPVersionNotSupported",
    "ImATeapot",
    "InternalServerError",
    "LengthRequired",
    "Locked",
    "MethodNotAllowed",
    "MisdirectedRequest",
    "NotAcceptable",
    "NotFound",
    "NotImplemented",
    "PreconditionFailed",
    "PreconditionRequired",
    "RequestEntityTooLarge",
    "RequestHeaderFieldsTooLarge",
    "RequestRedirect",
    "RequestTimeout",
    "RequestURITooLarge",
    "RequestedRangeNotSatisfiable",
    "SecurityError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnavailableForLegalReasons",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "abort",
    "default_exceptions",
]
