"""The response object: Flask's constructor and mutators; sends its own ASGI messages.

A :class:`Response` is also an ASGI app (``await response(scope, receive,
send)``), so it can be returned from a Starlette endpoint too. Headers are
kept as the raw ``(bytes, bytes)`` pairs ASGI wants; :attr:`Response.headers`
is a mutable, case-insensitive view over that same list, built on first use.

A streamed body (a sync or async iterator) is sent chunk by chunk while the
client's ``http.disconnect`` is watched: when the client goes away (or
``send`` raises ``OSError``), the iteration stops and the generator is closed,
so its ``finally`` runs.
"""

from __future__ import annotations

import functools
import html
import json as _json
import re
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal, overload
from urllib.parse import quote

import anyio
import anyio.lowlevel
from markupsafe import Markup, escape
from werkzeug.datastructures import Headers
from werkzeug.http import dump_cookie, http_date
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Response as WerkzeugResponse

from ..bridge import iterate_in_threads, release_request_slot, run_in_request_thread
from ..conditional import evaluate
from ..datastructures import ResponseHeaders, header_pair
from ..exceptions import HTTPException, InternalServerError, PreconditionFailed, RequestRedirect
from ..globals import _cv_app
from ..typed.problems import ProblemException
from ..typing import ASGIApp, HeadersValue, Message, Receive, Scope, Send, StatusValue


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase.upper()}"
    except ValueError:
        return f"{code} UNKNOWN"


_HTML = b"text/html; charset=utf-8"
_NO_BODY_STATUSES = frozenset({204, 304})
_BYTES_TYPES = (bytes, bytearray)
_COOKIE_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_DOMAIN = re.compile(r"\.?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]+)?")


class Response(SansIOResponse):
    """An HTTP response, as Flask's: ``Response(body, status, headers, mimetype=...)``.

    Werkzeug's ``sansio`` response (``headers`` is a Werkzeug ``Headers``, and
    ``set_etag``, ``cache_control``, ``vary``, ``allow``, ``www_authenticate``...
    work as in Flask) that sends its own ASGI messages. ``body`` may be ``str``,
    ``bytes``, a list of chunks, or a sync or async iterator (streamed).
    ``status`` is an int or a string such as ``"201 CREATED"``.
    """

    default_status = 200
    default_mimetype: str | None = "text/html"

    # No __slots__: all state lives in the instance __dict__, as on Werkzeug's
    # response, so code that copies it (Flask-Caching's CachedResponse assigns
    # one response's __dict__ to another) copies the whole response.
    _body: bytes | None
    _raw: list[tuple[bytes, bytes]]
    #: A plain attribute (Werkzeug's is a property over ``status``, and ours is the
    #: other way round: the code is what is stored).
    status_code: int = 200

    # Set per instance only when they differ (most responses never do).
    _headers: Headers | None = None  # made from _raw on first use; then the headers
    _status_text: str | None = None
    _iter: Iterable[Any] | AsyncIterable[Any] | None = None  # a streamed body
    # Whether sending the body may use the request (a generator may read it), so
    # the request ends after it is sent; a complete body or a file ends it before.
    _sends_with_request = False
    direct_passthrough = False

    def __init__(
        self,
        response: Any = None,
        status: StatusValue | HTTPStatus | None = None,
        headers: HeadersValue | Headers | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        # Werkzeug's __init__ is not called: it builds a Headers object, which
        # costs more than the rest of a plaintext response. Until a view or hook
        # touches .headers they stay the checked byte pairs ASGI sends.
        if direct_passthrough:
            self.direct_passthrough = True
        if headers is None:
            raw: list[tuple[bytes, bytes]] = []
            has_type = False
        else:
            raw = _raw_pairs(headers)
            has_type = False
            for name, _ in raw:
                if name == b"content-type":
                    has_type = True
        if content_type is None:
            if mimetype is None and not has_type:
                mimetype = self.default_mimetype
            if mimetype is not None:
                raw.append(
                    (
                        b"content-type",
                        _HTML
                        if mimetype == "text/html"
                        else get_content_type(mimetype, "utf-8").encode("latin-1"),
                    )
                )
        else:
            raw.append(header_pair("Content-Type", content_type))
        self._raw = raw
        if status is None:
            self.status_code = self.default_status
        else:
            self.status = status
        if response.__class__ is str:
            self._body: bytes | None = response.encode()
        elif isinstance(response, _BYTES_TYPES):
            self._body = bytes(response)
        else:
            self._body = None
            self._set_body(response)

    @classmethod
    def _ready(cls, body: bytes, content_type: bytes = _HTML) -> Response:
        """A 200 response whose body and content type are already bytes (the hot path).

        Skips the constructor's argument handling; a subclass with its own
        ``__init__`` is built through it instead.
        """
        if cls.__init__ is not Response.__init__:
            return cls(body, content_type=content_type.decode("latin-1"))
        self = object.__new__(cls)
        self._raw = [(b"content-type", content_type)]
        self.status_code = cls.default_status
        self._body = body
        return self

    def _set_body(self, response: Any) -> None:
        if response is None:
            self._body = b""
        elif isinstance(response, list | tuple):
            self._body = b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in response)
        else:
            self._iter = response
            self._sends_with_request = True

    # -- status ----------------------------------------------------------------

    @property
    def status(self) -> str:
        """The status line: ``"200 OK"``, ``"404 NOT FOUND"``, or the string it was set to."""
        text = self._status_text
        if text is not None and text.partition(" ")[0] == str(self.status_code):
            return text
        return _status_line(self.status_code)

    @status.setter
    def status(self, value: StatusValue | HTTPStatus) -> None:
        if isinstance(value, int):
            self.status_code = int(value)
            self._status_text = None
            return
        text = value.strip()
        code, _, reason = text.partition(" ")
        try:
            self.status_code = int(code)
        except ValueError:
            raise ValueError(f"Invalid status {value!r}: it must start with a number.") from None
        self._status_text = text if reason else None

    # -- headers ---------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        """The response headers, a Werkzeug ``Headers`` (``resp.headers["X-Frame-Options"] = ...``).

        What is set is checked: a name that is not a token, or a value with a
        control character, raises ``ValueError`` and is never sent.
        """
        headers = self._headers
        if headers is None:
            headers = self._headers = ResponseHeaders(
                [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self._raw]
            )
        return headers

    @headers.setter
    def headers(self, value: Headers | HeadersValue) -> None:
        self._headers = value if isinstance(value, Headers) else ResponseHeaders(value)

    def _freeze_headers(self) -> None:
        """Turn touched headers back into the checked pairs ASGI sends (``ValueError``
        for one that may not be sent), before anything is: the app answers that 500."""
        if self._headers is not None:
            self._raw = self._raw_headers()
            self._headers = None

    def _raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ASGI sends them (a new list where they were touched)."""
        headers = self._headers
        if headers is None:
            return self._raw
        # Checked again: headers assigned whole (resp.headers = Headers(...)) were not.
        return [header_pair(name, value) for name, value in headers.items()]

    @property  # type: ignore[override]
    def content_length(self) -> int | None:
        """The body's length when it is known (not streamed), else the header's value."""
        if self._body is not None:
            return len(self._body)
        return self.headers.get("content-length", type=int)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self.headers.remove("Content-Length")
        else:
            self.headers["Content-Length"] = str(value)

    # -- body ------------------------------------------------------------------

    @property
    def is_streamed(self) -> bool:
        """Whether the body is an iterator sent in chunks."""
        return self._iter is not None

    @property
    def _steps_in_thread(self) -> bool:
        # The body is a sync iterator: its steps run on the request's thread.
        body = self._iter
        return body is not None and not isinstance(body, AsyncIterable)

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body."""
        self._iter = None
        self._sends_with_request = False
        self._body = value.encode() if isinstance(value, str) else bytes(value)

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...
    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...
    @overload
    def get_data(self, as_text: bool = False) -> bytes | str: ...
    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body; a sync streamed body is consumed (and kept) to answer."""
        if self._body is None:
            if not isinstance(self._iter, Iterable):
                raise RuntimeError(
                    "This response streams from an async iterator, so its body is "
                    "not available synchronously."
                )
            self._set_body(list(self._iter))
            self._iter = None
            self._sends_with_request = False
        assert self._body is not None
        return self._body.decode() if as_text else self._body

    data = property(get_data, set_data, doc="The body as bytes (settable).")

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """The body parsed as JSON (``None`` when not JSON, unless ``force``)."""
        if not force and not self.is_json:
            return None
        try:
            return _json.loads(self.get_data())
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON (:meth:`get_json`)."""
        return self.get_json()

    def make_conditional(
        self,
        request_or_environ: Any = None,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer the request's conditional headers and range, as Werkzeug's does.

        With this response's ``ETag`` and ``Last-Modified``: ``304 Not Modified``,
        or ``412`` for a failed ``If-Match``; with ``accept_ranges``, a single
        byte range of a complete body is a ``206`` with ``Content-Range`` (a
        range past the end raises :class:`RequestedRangeNotSatisfiable`). The
        request is the current one unless given. Returns the response.
        """
        request = request_or_environ
        if request is None:
            ctx = _cv_app.get(None)
            request = ctx.request if ctx is not None else None
        if request is None or request.method not in ("GET", "HEAD"):
            return self
        headers = self.headers
        if "Date" not in headers:
            headers["Date"] = http_date()
        body = self._body
        length = None
        if accept_ranges:
            headers["Accept-Ranges"] = "bytes" if accept_ranges is True else accept_ranges
            length = complete_length if body is None else len(body)
        try:
            status, byte_range = evaluate(
                request.headers, headers.get("ETag"), self.last_modified, length
            )
        except PreconditionFailed:
            self.status_code = 412
            return self
        if status == 304:
            self.status_code = 304
        elif byte_range is not None and body is not None:
            start, stop = byte_range
            self._body = body[start:stop]
            self.status_code = 206
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(body)}"
        return self

    # -- cookies ---------------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header; arguments as Flask's.

        The value is quoted where RFC 6265 needs it and ``path`` percent-encoded,
        as Werkzeug does; a ``key`` or ``domain`` that could add attributes of
        its own (``;``, spaces, ``=``) raises ``ValueError``.
        """
        if not _COOKIE_KEY.fullmatch(key):
            raise ValueError(f"Invalid cookie name {key!r}: it must be an RFC 9110 token.")
        if domain and not _COOKIE_DOMAIN.fullmatch(domain):
            raise ValueError(f"Invalid cookie domain {domain!r}: it must be a host name.")
        cookie = dump_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite, partitioned=partitioned,
            max_size=0,  # warned about here, with the config key to change
        )  # fmt: skip
        limit = self.max_cookie_size
        if limit and len(cookie) > limit:
            # Browsers drop such a cookie without a word; say so here, as Flask does.
            warnings.warn(
                f"The {key!r} cookie is {len(cookie)} bytes, more than the {limit} bytes"
                " browsers keep (MAX_COOKIE_SIZE): they may silently ignore it.",
                stacklevel=2,
            )
        self.headers.add("Set-Cookie", cookie)

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The largest ``Set-Cookie`` value :meth:`set_cookie` accepts without a warning.

        The app's ``MAX_COOKIE_SIZE`` (4093 outside an app), as in Flask; 0 turns
        the warning off.
        """
        ctx = _cv_app.get(None)
        return int(ctx.app.config["MAX_COOKIE_SIZE"]) if ctx is not None else 4093

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Expire a cookie on the client."""
        self.set_cookie(
            key, expires=0, max_age=0, path=path, domain=domain, secure=secure,
            httponly=httponly, samesite=samesite, partitioned=partitioned,
        )  # fmt: skip

    # -- sending ---------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this response over ASGI (HEAD requests get the headers only)."""
        head = scope.get("method") == "HEAD"
        body = self._body
        if body is not None:
            raw = self._raw if self._headers is None else self._raw_headers()
            if self._headers is None and len(raw) == 1:
                # Only the content type, set by the constructor: nothing to filter.
                raw = [raw[0]]
            else:
                raw = [pair for pair in raw if pair[0] != b"content-length"]
            status = self.status_code
            if status in _NO_BODY_STATUSES or status < 200:
                # RFC 9110: these never carry a body, nor a Content-Length.
                body, head = b"", True
            else:
                raw.append((b"content-length", b"%d" % len(body)))
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": b"" if head else body})
            return
        start = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self._raw_headers(),
        }
        if head:
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            await _close(self._iter)
            return
        await _stream(start, self._iter, scope, receive, send)

    def __repr__(self) -> str:
        kind = "streamed" if self.is_streamed else f"{len(self._body or b'')} bytes"
        return f"<{type(self).__name__} {kind} [{self.status}]>"


def client_gone(exc: BaseException) -> bool:
    """Whether an error raised by the server's ``send`` means the client has left.

    ASGI 2.4 servers raise ``OSError``; uvicorn on uvloop raises ``RuntimeError``
    ("... the handler is closed") when the transport closed a moment earlier.
    """
    if isinstance(exc, OSError):
        return True
    return isinstance(exc, RuntimeError) and "handler is closed" in str(exc)


def _raw_pairs(headers: HeadersValue | Headers) -> list[tuple[bytes, bytes]]:
    """Headers given as a dict, a list of pairs or headers object, as checked byte pairs."""
    if headers.__class__ is dict:
        items: Iterable[tuple[str, Any]] = headers.items()
    elif isinstance(headers, Headers):
        return [header_pair(key, value) for key, value in headers.items()]
    else:
        items = headers.items() if isinstance(headers, Mapping) else headers
    raw = []
    for key, value in items:
        if value.__class__ is str:
            raw.append(header_pair(key, value))
        else:  # {"Vary": ["Cookie", "Accept"]} is two headers
            for item in value if isinstance(value, list | tuple) else (value,):
                raw.append(header_pair(key, str(item)))
    return raw


def _encode(chunk: Any) -> bytes:
    return chunk.encode() if isinstance(chunk, str) else bytes(chunk)


async def _close(iterable: Any) -> None:
    """Close a generator so its ``finally`` runs (sync ones in a worker thread)."""
    with anyio.CancelScope(shield=True):
        aclose = getattr(iterable, "aclose", None)
        if aclose is not None:
            await aclose()
            return
        close = getattr(iterable, "close", None)
        if close is not None:
            await run_in_request_thread(close)


async def _stream(
    start: Message, iterable: Any, scope: Scope, receive: Receive, send: Send
) -> None:
    """Send ``start`` with the first chunk of ``iterable``, then the rest, until done or disconnect.

    The headers wait for the first chunk, as a WSGI server sends them: a body
    failing before it is still answered with a bare 500, not with a 200 that
    never ends. Any failure is raised on for the app to log.
    """
    chunks: AsyncIterator[Any] = (
        iterable.__aiter__()
        if isinstance(iterable, AsyncIterable)
        else iterate_in_threads(iterable)
    )

    async def watch_disconnect(cancel_scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                cancel_scope.cancel()
                return
            # A server whose receive() returns at once must not starve the stream.
            await anyio.lowlevel.checkpoint()

    error: Exception | None = None
    started = False
    ctx = _cv_app.get(None)
    if ctx is not None:  # no slot is held while the client reads (see bridge.py)
        release_request_slot(ctx)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch_disconnect, tg.cancel_scope)
            try:
                async for chunk in chunks:
                    if not started:
                        started = True
                        await send(start)
                    if chunk:
                        message = {
                            "type": "http.response.body",
                            "body": _encode(chunk),
                            "more_body": True,
                        }
                        await send(message)
                if not started:
                    started = True
                    await send(start)
                await send({"type": "http.response.body", "body": b""})
            except Exception as exc:
                if not client_gone(exc):  # a gone client is the same as a disconnect
                    # Raised outside the task group, so callers see the error
                    # itself rather than an ExceptionGroup around it.
                    error = exc
            tg.cancel_scope.cancel()
    finally:
        if chunks is not iterable:
            await _close(chunks)
        await _close(iterable)
    if error is not None:
        if not started:
            with suppress(Exception):  # a client already gone cannot be answered
                await error_response(InternalServerError())(scope, receive, send)
        try:
            raise error
        finally:
            del error  # no cycle through this frame's traceback entry


class ASGIResponse(Response):
    """Wraps a view's return value that is itself an ASGI app (a Starlette response).

    ``after_request`` hooks still see a :class:`Response`: headers they add are
    appended to the ones the wrapped app sends.
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(None, mimetype=None)
        self._raw.clear()
        self.app = app

    #: The wrapped app may stream a generator that reads the request.
    _sends_with_request = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = self._raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_response(exc: HTTPException) -> Response:
    """The response for an HTTP error: its own (``exc.response``), a redirect, or its page.

    Werkzeug's ``get_response`` would build a WSGI response; this builds ours,
    with Werkzeug's body and headers (``Allow`` for a 405, ``WWW-Authenticate``
    for a 401, ``Retry-After``...). The common case, a plain page with no extra
    header, is built from a cache: a 404 flood costs no more than a hit.
    """
    given = exc.response
    if given is not None:
        return as_response(given)
    if isinstance(exc, RequestRedirect):
        return redirect(exc.new_url, exc.code)
    code = exc.code or 500
    kind = type(exc)
    if (
        kind.get_body is _DEFAULT_BODY
        and kind.get_description is _DEFAULT_DESCRIPTION
        and kind.get_headers is _DEFAULT_HEADERS
    ):
        description = exc.description
        if description is None or description.__class__ is str:
            response = Response._ready(_error_page(code, exc.name, description))
            response.status_code = code
            return response
    if isinstance(exc, ProblemException) and exc.formatter is None:
        ctx = _cv_app.get(None)  # raised without a formatter: the app's writes it
        if ctx is not None:
            exc.formatter = ctx.app.problem_formatter
    return Response(exc.get_body(), code, exc.get_headers())


_DEFAULT_BODY = HTTPException.get_body
_DEFAULT_DESCRIPTION = HTTPException.get_description
_DEFAULT_HEADERS = HTTPException.get_headers


@functools.lru_cache(maxsize=256)
def _error_page(code: int, name: str, description: str | None) -> bytes:
    # Werkzeug's page, word for word (HTTPException.get_body), built once per text.
    text = escape(description or "").replace("\n", Markup("<br>"))
    return (
        f"<!doctype html>\n<html lang=en>\n<title>{code} {escape(name)}</title>\n"
        f"<h1>{escape(name)}</h1>\n<p>{text}</p>\n"
    ).encode()


def as_response(value: Any) -> Response:
    """``value`` as our :class:`Response`: itself, or a copy of a Werkzeug (Flask) one."""
    if isinstance(value, Response):
        return value
    if isinstance(value, WerkzeugResponse):
        body = value.response if value.is_streamed else value.get_data()
        return Response(body, value.status, list(value.headers.items()))
    raise TypeError(f"{value!r} is not a response.")


_BaseResponse = Response  # `redirect` has a parameter named Response, as Flask's


def redirect(
    location: str,
    code: int = 302,
    Response: type[_BaseResponse] | None = None,
) -> _BaseResponse:
    """A redirect to ``location`` (302 by default; Flask's signature)."""
    cls = Response or _BaseResponse
    # Keep the URL's reserved characters, escape the rest (spaces, non-ASCII).
    target = quote(location, safe="/:?#[]@!$&'()*+,;=%~")
    response = cls(
        f"<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        f"<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
        f'<a href="{_escape(target)}">{_escape(location)}</a>. If not, click the link.\n',
        code,
    )
    response.headers["Location"] = target
    return response


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
