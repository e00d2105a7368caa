"""The request object: Flask's names over an ASGI scope, with a preloaded body.

Before a view runs, the app awaits :meth:`Request._load_body` (unless
:meth:`Request._body_is_empty` knows there is none), which reads the whole body
(bounded by ``MAX_CONTENT_LENGTH``; kept in memory up to ``BODY_MEMORY_LIMIT``,
then spooled to a temporary file) and parses form bodies.
That is what lets ``request.get_json()``, ``request.form`` and the rest stay
plain synchronous calls in both async and sync views. Routes registered with
``stream=True`` skip the preload and read :attr:`Request.stream` instead.
"""

from __future__ import annotations

import codecs
import copy
import re
import tempfile
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING, Any, Literal, cast, overload

import anyio.from_thread
import anyio.lowlevel
from werkzeug.datastructures import CombinedMultiDict, FileStorage, Headers, ImmutableMultiDict
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.utils import cached_property

from ..bridge import run_io
from ..exceptions import (
    BadRequest,
    ClientGone,
    HTTPException,
    RequestEntityTooLarge,
    SecurityError,
    UnsupportedMediaType,
)
from ..forms import parse_form, parse_query
from ..globals import _cv_app
from ..sansio.blueprints import blueprint_chain
from ..typing import Message, Receive, Scope

if TYPE_CHECKING:
    from ..routing import Rule


def connection_host(header: str | None, scope: Scope, secure: bool) -> str:
    """The ``Host`` header, or else the server's address; without the scheme's default port.

    Werkzeug's ``get_host``, except that the header is not checked again: the
    app checked it (:func:`check_host`) before anything was built from it, and
    allows ``_`` in names (Docker's service names), where Werkzeug's check does not.
    """
    if header:
        host = header
    else:
        server = scope.get("server")
        if not server:
            return "localhost"
        name, port = server[0], server[1]
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # an IPv6 address
        host = name if port is None else f"{name}:{port}"
    return host.removesuffix(":443" if secure else ":80")


# RFC 9110 7.2: Host = uri-host [":" port]. A host name (letters, digits, dots,
# hyphens, and underscores, which Docker service names have) or a bracketed IPv6
# address, then at most one numeric port. Anything else (user info as in
# "example.com:80@evil.test", a second port, spaces, a path) would be copied into
# every URL that url_for(_external=True) and redirects build from it.
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?")
#: Host values already checked, and their text. Bounded: past it, each is checked again.
_CHECKED_HOSTS: dict[bytes, str] = {}


def valid_host(host: bytes) -> bool:
    """Whether ``host`` is a valid ``Host`` header value: ``name``, ``name:port``, ``[v6]:port``."""
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    port = match.group(1)
    return port is None or 0 < int(port) <= 65535


def check_host(headers: list[tuple[bytes, bytes]], trusted: Any) -> HTTPException | None:
    """The error to answer for the request's ``Host`` header, or ``None`` if it is fine.

    Several Host headers (RFC 9112 3.2) or an invalid one are a 400 whether or
    not ``trusted`` (``TRUSTED_HOSTS``) is set; with it set, a missing or
    untrusted one is a 400 too.
    """
    host: bytes | None = None
    for name, value in headers:
        if name == b"host":
            if host is not None:
                return BadRequest("The request has more than one Host header.")
            host = value
    if host is None:
        return SecurityError("The request has no Host header.") if trusted else None
    text = _CHECKED_HOSTS.get(host)
    if text is None:
        if not valid_host(host):
            return BadRequest("The Host header is not a valid host name and port.")
        text = host.decode("ascii")
        if len(_CHECKED_HOSTS) < 1024:
            _CHECKED_HOSTS[host] = text
    if trusted and not host_is_trusted(text, trusted):
        # Refused before anything is built from it (url_for(_external=True)).
        return SecurityError("The Host header is not trusted.")
    return None


def host_is_trusted(host: str, trusted: list[str] | tuple[str, ...]) -> bool:
    """Whether ``host`` (``name`` or ``name:port``) matches a ``TRUSTED_HOSTS`` entry.

    An entry ``example.com`` matches that name; ``.example.com`` also matches
    its subdomains. Ports are ignored, case too.
    """
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower().rstrip(".")
    for entry in trusted:
        entry = entry.lower()
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


def parse_content_length(values: set[bytes]) -> int | None:
    """The request's Content-Length from its header values; 400 for anything doubtful.

    Only ASCII digits (``"²"`` is a digit to Unicode), at most 18 of them (no real
    body is longer; ``int()`` refuses thousands of digits), and one value: two
    different lengths mean a proxy and this server may disagree on where the
    request ends (request smuggling, RFC 9112 6.3).
    """
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest("The request has several different Content-Length headers.")
    (value,) = values
    if not (value.isdigit() and value.isascii() and len(value) <= 18):
        raise BadRequest("The Content-Length header is not a valid number.")
    return int(value)


def request_headers(raw: list[tuple[bytes, bytes]]) -> Headers:
    """An ASGI scope's headers as Werkzeug's ``Headers`` (read as latin-1, as WSGI does).

    Werkzeug refuses a value with a line break; a server should never pass one
    on, but if it does, that is the client's doing: it becomes a space, not a 500.
    """
    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    try:
        return Headers(pairs)
    except ValueError:
        return Headers([(k, v.replace("\r", " ").replace("\n", " ")) for k, v in pairs])


def parse_cookies(header: str | None) -> ImmutableMultiDict[str, str]:
    """The ``Cookie`` header's cookies; of two with one name the first wins, as in Flask.

    (A second ``session`` cookie, set for a parent domain or path, must not
    replace the one the browser lists first.)
    """
    if header and not header.isascii():  # UTF-8 bytes, as browsers send them
        header = header.encode("latin-1").decode("utf-8", "replace")
    return cast("ImmutableMultiDict[str, str]", parse_cookie(header, cls=ImmutableMultiDict))


def strip_root_path(path: str, root_path: str) -> str:
    """``path`` relative to ``root_path``: ASGI 2.5 servers include the prefix, older ones don't.

    Only a whole-segment prefix is removed: root ``/shop`` leaves ``/shopping`` alone.
    """
    root = root_path.rstrip("/")
    if path == root:
        return "/"
    if path.startswith(root) and path[len(root)] == "/":
        return path[len(root) :]
    return path


def _clean_text(text: str) -> str:
    """Replace lone surrogates (undecodable bytes a server passed on) with U+FFFD.

    Left in, they would fail later, wherever the text is encoded: a 500.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "replace")
        return raw.decode("utf-8", "replace")
    return text


def _on_event_loop() -> bool:
    try:
        anyio.lowlevel.current_token()
    except Exception:
        return False
    return True


def _codec(charset: str | None) -> str:
    """A usable codec name for a client-given charset (UTF-8 if unknown or missing)."""
    if charset:
        try:
            return codecs.lookup(charset).name
        except (LookupError, ValueError):
            pass
    return "utf-8"


def _temporary_file() -> IO[bytes]:
    return tempfile.TemporaryFile("w+b")


class RequestStream:
    """The body of a ``stream=True`` route, read as it arrives.

    In an ``async def`` view: ``async for chunk in request.stream`` (or
    ``await request.stream.aread()``). In a ``def`` view: ``request.stream.read(n)``,
    which pulls from the connection through the thread bridge. Either way at most
    ``MAX_CONTENT_LENGTH`` bytes are accepted (413 past that), and memory holds
    one chunk at a time.
    """

    def __init__(self, receive: Receive, max_length: int | None) -> None:
        self._receive = receive
        self._token = anyio.lowlevel.current_token()
        self._max_length = max_length
        self._buffer = b""
        self._done = False
        self._finished = anyio.Event()
        self._seen = 0

    async def receive_after_body(self) -> Message:
        """``receive`` for the response's disconnect watcher: waits until the view has
        read the whole body, so the watcher never takes a chunk the view needs."""
        await self._finished.wait()
        return await self._receive()

    async def _next_chunk(self) -> bytes:
        while not self._done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._finished.set()
                raise ClientGone()
            self._done = not message.get("more_body", False)
            if self._done:
                self._finished.set()
            chunk: bytes = message.get("body", b"")
            self._seen += len(chunk)
            if self._max_length is not None and self._seen > self._max_length:
                raise RequestEntityTooLarge()
            if chunk:
                return chunk
        return b""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        if self._buffer:
            chunk, self._buffer = self._buffer, b""
            yield chunk
        while chunk := await self._next_chunk():
            yield chunk

    async def aread(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left when negative)."""
        parts = [self._buffer]
        have = len(self._buffer)
        while size < 0 or have < size:
            chunk = await self._next_chunk()
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if size < 0:
            self._buffer = b""
            return data
        data, self._buffer = data[:size], data[size:]
        return data

    def read(self, size: int = -1) -> bytes:
        """Blocking read for sync views (runs in a worker thread)."""
        if _on_event_loop():
            # Blocking here would wait for the very loop we are blocking.
            raise RuntimeError(
                "request.stream.read() blocks, so it only works in a sync (def) view. "
                "In an async view use `await request.stream.aread()` or "
                "`async for chunk in request.stream`."
            )
        return anyio.from_thread.run(self.aread, size, token=self._token)


_MISSING: Any = object()


class Request(SansIORequest):
    """The incoming HTTP request: Werkzeug's ``sansio`` request over an ASGI scope.

    Every property Flask code knows exists with Werkzeug's semantics
    (``authorization``, ``accept_*``, ``referrer``, ``if_modified_since``,
    ``range``, ``cache_control``, ``access_route``, ...); ``request.scope`` is
    the ASGI scope. Only what a view touches is computed: ``headers`` (a
    Werkzeug ``Headers``), ``args``, ``cookies`` and the parsed body are built
    on first access, so a plaintext GET builds none of them.
    """

    __slots__ = ("_data", "_receive", "scope", "url_rule", "view_args")

    # Set per instance only when they differ (most requests never do).
    routing_exception: HTTPException | None = None  # a 404/405/redirect to answer
    _blueprints: tuple[str, ...] | None = None  # those of a 404/405's URL prefix
    _spool: IO[bytes] | None = None  # a large body, in a temporary file
    _stream: RequestStream | None = None  # the body of a stream=True route
    _form: ImmutableMultiDict[str, str] | None = None
    _files: ImmutableMultiDict[str, FileStorage] | None = None
    _form_error: HTTPException | None = None
    _json: Any = _MISSING  # the parsed JSON body, once get_json() ran

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        # Werkzeug's __init__ is not called: it needs the headers built, which
        # costs more than a plaintext request does; they are built on first use.
        self.scope = scope
        self._receive = receive
        self.method: str = scope["method"]
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path:
            path = strip_root_path(path, root_path)
        if not path.isascii():
            path = _clean_text(path)
        self.root_path = root_path
        self.path = path
        self.url_rule: Rule | None = None
        self.view_args: dict[str, Any] | None = None
        self._data: bytes | None = None

    # -- what Werkzeug's __init__ would have set, from the scope -------------------

    @cached_property
    def headers(self) -> Headers:
        """The request headers, a Werkzeug ``Headers`` (case-insensitive, ``get(type=)``)."""
        return request_headers(self.scope["headers"])

    @property
    def query_string(self) -> bytes:  # type: ignore[override]
        """The raw query string."""
        return self.scope.get("query_string", b"")  # type: ignore[no-any-return]

    @property
    def scheme(self) -> str:  # type: ignore[override]
        """``http`` or ``https`` (``ws``/``wss`` for websockets)."""
        return self.scope.get("scheme", "http")  # type: ignore[no-any-return]

    @property
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        """The server's address, ``(host, port)``, as the ASGI server gave it."""
        server = self.scope.get("server")
        return (server[0], server[1]) if server else None

    @property
    def remote_addr(self) -> str | None:  # type: ignore[override]
        """The client's address as the server saw it."""
        client = self.scope.get("client")
        return client[0] if client else None

    # -- URL -------------------------------------------------------------------

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        """The parsed query string (``request.args.get("page", 1, type=int)``).

        Past ``MAX_QUERY_FIELDS`` fields, a 400.
        """
        query = self.scope.get("query_string", b"")
        if not query:
            return ImmutableMultiDict()
        ctx = _cv_app.get(None)
        limit = ctx.app.config["MAX_QUERY_FIELDS"] if ctx is not None else None
        return parse_query(query, limit)

    @cached_property
    def host(self) -> str:
        """The host the request was made to, with its port if not the scheme's default."""
        return connection_host(self.headers.get("host"), self.scope, self.is_secure)

    @cached_property
    def full_path(self) -> str:
        """Path and query string: ``/search?q=x`` (``/search?`` without a query).

        As Werkzeug's, but raw bytes that are not UTF-8 are replaced, not a 500.
        """
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"

    @property
    def script_root(self) -> str:
        """The prefix the app is mounted at (the ASGI ``root_path``), as Flask names it."""
        return self.root_path

    @property
    def url_root(self) -> str:
        """``scheme://host/root_path/``, as Flask names :attr:`root_url`."""
        return self.root_url

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """Cookies sent by the client. When a name is repeated, the first wins, as in Flask."""
        return parse_cookies(self.headers.get("cookie"))

    @property
    def endpoint(self) -> str | None:
        """The matched rule's endpoint, or ``None`` (404, 405)."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprints(self) -> list[str]:
        """Names of the blueprints handling this request, innermost first.

        Those of the matched endpoint; for a 404/405 under a blueprint's URL
        prefix, that blueprint's (its error handlers answer).
        """
        names = self._blueprints
        if names is None:
            names = blueprint_chain(self.endpoint)
        return list(names)

    @property
    def blueprint(self) -> str | None:
        """The (dotted) name of the innermost blueprint handling this request, if any."""
        names = self._blueprints if self._blueprints is not None else blueprint_chain(self.endpoint)
        return names[0] if names else None

    @property
    def max_content_length(self) -> int | None:
        """The current app's ``MAX_CONTENT_LENGTH``."""
        ctx = _cv_app.get(None)
        if ctx is None:
            return None
        return ctx.app.config["MAX_CONTENT_LENGTH"]  # type: ignore[no-any-return]

    # -- body ------------------------------------------------------------------

    def _body_is_empty(self) -> bool:
        """Whether the body is known to be empty without reading (then it is loaded).

        An HTTP/1.x GET or HEAD without Content-Length or Transfer-Encoding has
        no body (RFC 9112 6.3): nothing to wait for. HTTP/2 may send one anyway,
        and other methods are always read, so no body is ever dropped.
        """
        if self.method not in _BODYLESS or self.scope.get("http_version") not in _HTTP1:
            return False
        for name, _ in self.scope["headers"]:
            if name in _BODY_FIELDS:
                return False
        self._data = b""
        return True

    async def _load_body(self, max_length: int | None, memory_limit: int) -> None:
        """Read the whole body (bounded: ``max_length``; spooled past ``memory_limit``)."""
        declared = self._declared_length()
        if max_length is not None and declared is not None and declared > max_length:
            # Refuse before reading anything, so `Expect: 100-continue` clients
            # never send the body at all.
            raise RequestEntityTooLarge()
        assert self._receive is not None
        receive = self._receive
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            if max_length is not None and len(body) > max_length:
                raise RequestEntityTooLarge()
            if len(body) > memory_limit:
                spool = await run_io(_temporary_file)
                await run_io(spool.write, body)
                await run_io(spool.seek, 0)
                self._spool = spool
            else:
                self._data = body
        else:
            await self._load_more(body, max_length, memory_limit)

    def _declared_length(self) -> int | None:
        """The Content-Length, checked strictly (a 400 for a doubtful one: see
        :func:`parse_content_length`), where :attr:`content_length` is Werkzeug's
        lenient reading for views."""
        lengths: set[bytes] | None = None  # most requests have none
        for name, value in self.scope["headers"]:
            if name == b"content-length":
                if lengths is None:
                    lengths = set()
                lengths.add(value)
        return parse_content_length(lengths) if lengths else None

    def _open_stream(self, max_length: int | None) -> None:
        """Hand the unread body to the view as :attr:`stream` (``stream=True`` routes)."""
        declared = self._declared_length()
        if max_length is not None and declared is not None and declared > max_length:
            raise RequestEntityTooLarge()
        assert self._receive is not None
        self._stream = RequestStream(self._receive, max_length)

    async def _load_more(self, first: bytes, max_length: int | None, memory_limit: int) -> None:
        chunks = [first]
        size = len(first)
        spool: IO[bytes] | None = None
        more = True
        assert self._receive is not None
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                if spool is not None:
                    spool.close()
                raise ClientGone()
            more = message.get("more_body", False)
            chunk: bytes = message.get("body", b"")
            if not chunk:
                continue
            size += len(chunk)
            if max_length is not None and size > max_length:
                if spool is not None:
                    spool.close()
                raise RequestEntityTooLarge()
            if spool is not None:
                await run_io(spool.write, chunk)
                continue
            chunks.append(chunk)
            if size > memory_limit:
                new_spool = await run_io(_temporary_file)
                await run_io(new_spool.writelines, chunks)
                spool, chunks = new_spool, []
        if spool is None:
            self._data = b"".join(chunks)
        else:
            await run_io(spool.seek, 0)
            self._spool = spool

    def _load_form(self) -> None:
        """Parse a form body, once, on first read (see :mod:`.forms` for the limits)."""
        if self._form_error is not None:
            # A copy: the kept one gets no traceback (which would hold this request).
            raise copy.copy(self._form_error)
        if self._form is not None:
            return
        mimetype = self.mimetype
        body: bytes | IO[bytes] | None = self._spool if self._spool is not None else self._data
        if mimetype not in _FORM_TYPES or not body:
            self._form, self._files = ImmutableMultiDict(), ImmutableMultiDict()
            return
        ctx = _cv_app.get(None)
        config = ctx.app.config if ctx is not None else _FORM_DEFAULTS
        params = self.mimetype_params
        try:
            self._form, self._files = parse_form(
                body,
                mimetype,
                params.get("boundary"),
                _codec(params.get("charset")),
                max_memory=config["MAX_FORM_MEMORY_SIZE"],
                max_parts=config["MAX_FORM_PARTS"],
            )
        except HTTPException as exc:
            # Raised again on each read, as the same bad body would give; a copy
            # is kept, without the traceback that would hold this request.
            self._form_error = copy.copy(exc).with_traceback(None)
            raise

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        """Fields of a urlencoded or multipart body (empty for other bodies).

        Parsed on first read: a 413 past ``MAX_FORM_MEMORY_SIZE`` or
        ``MAX_FORM_PARTS``, a 400 for a malformed body.
        """
        if self._form is None:
            self._load_form()
        assert self._form is not None
        return self._form

    @property
    def files(self) -> ImmutableMultiDict[str, FileStorage]:
        """Uploaded files of a multipart body, as Werkzeug's ``FileStorage``."""
        if self._files is None:
            self._load_form()
        assert self._files is not None
        return self._files

    @property
    def values(self) -> CombinedMultiDict[str, str]:
        """``args`` and ``form`` together (only ``args`` for GET, as Flask 2+)."""
        if self.method == "GET":
            return CombinedMultiDict([self.args])
        return CombinedMultiDict([self.args, self.form])

    @overload
    def get_data(
        self, cache: bool = True, as_text: Literal[False] = False, parse_form_data: bool = False
    ) -> bytes: ...
    @overload
    def get_data(
        self, cache: bool = True, *, as_text: Literal[True], parse_form_data: bool = False
    ) -> str: ...
    @overload
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str: ...
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The raw body as bytes (or text with ``as_text=True``).

        For a form body this is the raw encoded form; ``request.form`` is
        parsed independently of it.
        """
        if self._stream is not None:
            raise RuntimeError(
                "This route was registered with stream=True, so the body is not "
                "preloaded: read it from request.stream instead."
            )
        if self._spool is not None:
            self._spool.seek(0)
            data = self._spool.read()
            self._spool.seek(0)
        else:
            data = self._data or b""
        return (
            data.decode(_codec(self.mimetype_params.get("charset")), "replace") if as_text else data
        )

    @property
    def data(self) -> bytes:
        """The raw body, as Flask's ``request.data``."""
        return self.get_data()

    @property
    def stream(self) -> RequestStream | IO[bytes]:
        """The body as a stream: live for ``stream=True`` routes, else a file over the body."""
        if self._stream is not None:
            return self._stream
        if self._spool is not None:
            self._spool.seek(0)
            return self._spool
        import io

        return io.BytesIO(self._data or b"")

    @property
    def is_json(self) -> bool:
        """Whether the body is declared JSON (``application/json`` or ``*/*+json``).

        The usual ``application/json`` is found in the scope, without building
        :attr:`headers` (~2.5 µs); any other value goes to Werkzeug's test.
        """
        for name, value in self.scope["headers"]:
            if name == b"content-type":
                if value == b"application/json":
                    return True
                break  # the first one counts, as in Werkzeug
        return super().is_json

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON.

        Not declared JSON: 415 (``None`` when ``silent``, parsed anyway when
        ``force``). Malformed: 400 (``None`` when ``silent``).
        """
        if cache and self._json is not _MISSING:
            return self._json
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request "
                "Content-Type was not 'application/json'."
            )
        data = self.get_data()
        try:
            ctx = _cv_app.get(None)
            if ctx is not None:
                value = ctx.app.json.loads(data)
            else:
                import json

                value = json.loads(data)
        except (ValueError, RecursionError) as exc:
            # RecursionError: deeply nested input is the client's fault, not a 500.
            if silent:
                return None
            return self.on_json_loading_failed(exc)
        if cache:
            self._json = value
        return value

    def on_json_loading_failed(self, e: Exception | None) -> Any:
        """Called when the body is not valid JSON; raises 400. Override to change."""
        raise BadRequest(f"Failed to decode JSON object: {e}")

    @property
    def json(self) -> Any:
        """``get_json()``: the parsed JSON body."""
        return self.get_json()

    def close(self) -> None:
        """Release the spooled body and uploaded files."""
        if self._spool is not None:
            self._spool.close()
        if self._files is not None:
            for _, storage in self._files.items(multi=True):
                storage.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url!r} [{self.method}]>"


_HTTP1 = frozenset({"1.1", "1.0"})
_BODYLESS = frozenset({"GET", "HEAD"})
#: The header fields that announce a body (RFC 9112 6.3).
_BODY_FIELDS = frozenset({b"content-length", b"transfer-encoding"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: The form limits outside an app (a Request made by hand).
_FORM_DEFAULTS = {"MAX_FORM_MEMORY_SIZE": 500_000, "MAX_FORM_PARTS": 1_000}
