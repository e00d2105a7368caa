"""The context (app, and request when there is one), and the helpers that act on it.

During a request the app makes the context current itself (see
``MicroASGI._handle_http``); ``with app.app_context()`` and
``with app.test_request_context()`` push one outside a request. The proxies in
:mod:`microasgi.globals` resolve to what it holds.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterator
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote, urlsplit

import werkzeug.test

from .bridge import release_request_thread
from .exceptions import HTTPException as HTTPException
from .globals import _NO_REQUEST, _cv_app
from .globals import _cv_request as _cv_request
from .signals import appcontext_popped, appcontext_pushed

if TYPE_CHECKING:
    from .sansio.app import App
    from .sessions import SessionMixin
    from .typing import Scope
    from .wrappers.request import Request
    from .wrappers.response import Response

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_sentinel: Any = object()


class _AppCtxGlobals:
    """``g``: a plain namespace for data during one app context (one request)."""

    if TYPE_CHECKING:
        # Any attribute may be set and read; these tell type checkers so.
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute, or ``default``."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        """Remove and return an attribute (``default``, or ``KeyError``, if missing)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """The attribute, set to ``default`` first if missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return (
            f"<microasgi.g of {_cv_app.get().app.name!r}>"
            if _cv_app.get(None)
            else object.__repr__(self)
        )


class AppContext:
    """The context of the app, and of one request or websocket when there is one.

    It holds ``current_app`` and ``g``; during a request also ``request``,
    ``session`` and the request's worker thread; during a websocket handler
    ``websocket``. As in Flask 3.2, one object and one context variable: a
    "request context" is an app context that carries a request.

    ``with app.app_context():`` (or ``async with``) makes one current outside a
    request, as in a CLI command or a background job;
    ``with app.test_request_context(...):`` one with a made-up request. The
    session is opened on first use, so a request that never touches it pays
    nothing for it.

    Code written for Flask's request context finds what it holds under Flask's
    names: ``request``, ``session``, ``app``, ``g``, ``flashes``.
    """

    __slots__ = ("__dict__", "app", "request")

    # Set per instance only when they differ (most requests never do).
    websocket: Any = None
    _g: _AppCtxGlobals | None = None  # made on first use
    _session: SessionMixin | None = None  # opened on first use
    #: This request's slot and worker thread for sync code (see bridge.py).
    _lease: Any = None
    _queue_refused = False  # SYNC_QUEUE_LIMIT turned it away once: later calls wait
    _after_request_functions: list[Callable[[Response], Any]] | None = None
    _tokens: list[Token[AppContext]] | None = None  # only pushed contexts need it
    #: The messages :func:`~microasgi.get_flashed_messages` took from the session in
    #: this request (``None`` until it first runs), as in Flask's request context.
    flashes: list[tuple[str, str]] | None = None

    def __init__(self, app: App, request: Request | None = None, websocket: Any = None) -> None:
        self.app = app
        self.request = request
        if websocket is not None:
            self.websocket = websocket

    @property
    def g(self) -> _AppCtxGlobals:
        """This context's ``g``, made on first use (most requests never touch it)."""
        g = self._g
        if g is None:
            g = self._g = self.app.app_ctx_globals_class()
        return g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        self._g = value

    @property
    def session(self) -> SessionMixin:
        """The session, opened on first use (a null session if the interface returns none)."""
        session = self._session
        if session is None:
            connection = self.request if self.request is not None else self.websocket
            if connection is None:
                raise RuntimeError(_NO_REQUEST)
            interface = self.app.session_interface
            session = interface.open_session(self.app, connection)
            if session is None:
                session = interface.make_null_session(self.app)
            self._session = session
        return session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._session = value

    def copy(self) -> AppContext:
        """A new context with the same app, request, session and ``g``, to push in
        another task or thread (what :func:`copy_current_request_context` does)."""
        ctx = AppContext(self.app, self.request, self.websocket)
        ctx._session = self._session
        ctx._g = self._g
        return ctx

    def push(self) -> None:
        """Make this context current (it may be pushed again while it is).

        Sends ``appcontext_pushed`` (sender: the app), as Flask does.
        """
        self._push()
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def _push(self) -> None:
        if self._tokens is None:
            self._tokens = []
        self._tokens.append(_cv_app.set(self))

    def pop(self, exc: BaseException | None = None) -> None:
        """Undo one :meth:`push`; the last one runs the teardown hooks first.

        Then sends ``appcontext_popped`` (sender: the app), as Flask does.
        """
        tokens = self._tokens
        assert tokens, "pop() without push()"
        try:
            if len(tokens) == 1:
                if self.request is not None:
                    self.app.do_teardown_request(exc)
                self.app.do_teardown_appcontext(exc)
        finally:
            if len(tokens) == 1:
                self._release()
            _cv_app.reset(tokens.pop())
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    async def apop(self, exc: BaseException | None = None) -> None:
        """:meth:`pop` for ``async with``: async teardown hooks are awaited.

        ``appcontext_popped`` is sent as by :meth:`pop`: sync receivers run here,
        on the event loop, and async ones are awaited.
        """
        tokens = self._tokens
        assert tokens, "pop() without push()"
        try:
            if len(tokens) == 1:
                await self.app._end_request(self, exc)
        finally:
            if len(tokens) == 1:
                self._release()
            _cv_app.reset(tokens.pop())
        if appcontext_popped.receivers:
            await appcontext_popped.send_async(self.app, _sync_wrapper=_as_async)

    def _release(self) -> None:
        release_request_thread(self)
        if self.request is not None:
            self.request.close()

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pop(exc)

    async def __aenter__(self) -> AppContext:
        self._push()
        if appcontext_pushed.receivers:
            # On the event loop: async receivers are awaited, sync ones called here.
            await appcontext_pushed.send_async(self.app, _sync_wrapper=_as_async)
        return self

    async def __aexit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.apop(exc)


def _as_async(func: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """A sync signal receiver as a coroutine function, for ``send_async`` on the loop."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return call


#: Flask's name for an app context with a request (Flask 3.2 merged the two, as here).
RequestContext = AppContext


def has_request_context() -> bool:
    """Whether a request context is active (``request`` is usable)."""
    ctx = _cv_app.get(None)
    return ctx is not None and ctx.request is not None


def has_app_context() -> bool:
    """Whether an application context is active (``current_app`` is usable)."""
    return _cv_app.get(None) is not None


def after_this_request(f: F) -> F:
    """Run ``f(response)`` after this request's view; it must return a response.

    ::

        @app.get("/")
        def index():
            @after_this_request
            def add_header(response):
                response.headers["X-Foo"] = "bar"
                return response
            return "Hello"
    """
    ctx = _cv_app.get(None)
    if ctx is None or (ctx.request is None and ctx.websocket is None):
        raise RuntimeError("after_this_request() can only be used during a request.")
    if ctx._after_request_functions is None:
        ctx._after_request_functions = []
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Bind ``f`` to the current request, to call it later from another task or thread."""
    ctx = _cv_app.get(None)
    if ctx is None or (ctx.request is None and ctx.websocket is None):
        raise RuntimeError(
            "copy_current_request_context() can only be used when a request context "
            "is active, such as in a view function."
        )

    if inspect.iscoroutinefunction(f):

        @functools.wraps(f)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            token = _cv_app.set(ctx)
            try:
                return await f(*args, **kwargs)
            finally:
                _cv_app.reset(token)

        return run_async  # type: ignore[return-value]

    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = _cv_app.set(ctx)
        try:
            return f(*args, **kwargs)
        finally:
            _cv_app.reset(token)

    return run  # type: ignore[return-value]


def stream_with_context(generator_or_function: T) -> T:
    """Keep the request context available while a streamed response is generated.

    Kept for Flask compatibility. In microasgi the request context stays active
    until the response has been sent, so a generator returned from a view sees
    ``request``, ``session`` and ``g`` without this; wrapping is harmless.
    Works on a generator or as a decorator on a generator function.
    """
    return generator_or_function


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """The URL of ``endpoint`` with ``values``; see :meth:`MicroASGI.url_for`."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "url_for() needs an application context: call it during a request, or "
            "inside `with app.app_context():`."
        )
    return ctx.app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def make_response(*args: Any) -> Response:
    """Turn a view's return value into a :class:`Response` (``make_response(body, 404)``)."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError("make_response() needs an application context.")
    # The core App types its responses as Werkzeug's; the serving app's are ours.
    response = (
        ctx.app.make_response(args[0] if len(args) == 1 else args)
        if args
        else ctx.app.response_class()
    )
    return cast("Response", response)


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """Werkzeug's ``EnvironBuilder`` with the app's defaults, as Flask's.

    Without ``base_url``, the URL is built from ``SERVER_NAME`` (else
    ``localhost``, with ``subdomain`` in front), ``APPLICATION_ROOT`` and
    ``PREFERRED_URL_SCHEME`` (or ``url_scheme``); a ``path`` that is a whole
    URL gives its own scheme and host. ``json`` is encoded by ``app.json``.
    """

    def __init__(
        self,
        app: App,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise ValueError("Give either 'base_url', or 'subdomain' and 'url_scheme'.")
        if base_url is None:
            host = app.config["SERVER_NAME"] or "localhost"
            if subdomain:
                host = f"{subdomain}.{host}"
            url = urlsplit(path)
            scheme = url.scheme or url_scheme or app.config["PREFERRED_URL_SCHEME"]
            root = app.config["APPLICATION_ROOT"].lstrip("/")
            base_url = f"{scheme}://{url.netloc or host}/{root}"
            path = f"{url.path}?{url.query}" if url.query else url.path
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Encode ``obj`` with the app's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)


def made_up_request(app: App, *args: Any, **kwargs: Any) -> tuple[Scope, bytes]:
    """An ASGI scope and body for a request made up from :class:`EnvironBuilder`'s
    arguments (``path``, ``method``, ``query_string``, ``headers``, ``data``,
    ``json``, ``base_url``, ``subdomain``...), as Flask's ``test_request_context``
    and test client take them."""
    builder = EnvironBuilder(app, *args, **kwargs)
    try:
        environ = builder.get_environ()
        body: bytes = environ["wsgi.input"].read()
    finally:
        builder.close()
    return scope_from_environ(environ), body


def _wsgi_text(environ: dict[str, Any], key: str) -> str:
    # PEP 3333 keeps the URL's bytes in a latin-1 str; ASGI's path is text.
    return str(environ.get(key, "")).encode("latin-1").decode("utf-8", "replace")


def scope_from_environ(environ: dict[str, Any]) -> Scope:
    """The ASGI HTTP scope of a WSGI environ (its body stays in ``wsgi.input``)."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers.append((name.replace("_", "-").lower().encode(), str(value).encode("latin-1")))
    root_path = _wsgi_text(environ, "SCRIPT_NAME").rstrip("/")
    # Werkzeug's router reads a path without its leading slash as if it had one.
    path = root_path + "/" + _wsgi_text(environ, "PATH_INFO").lstrip("/")
    raw_path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"].upper(),
        "scheme": environ["wsgi.url_scheme"],
        "path": path,
        "raw_path": quote(raw_path or b"/", safe="/:@!$&'()*+,;=").encode("ascii"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": root_path,
        "headers": headers,
        "client": (
            environ.get("REMOTE_ADDR", "127.0.0.1"),
            int(environ.get("REMOTE_PORT", 50000)),
        ),
        "server": (environ["SERVER_NAME"], int(environ["SERVER_PORT"])),
        "extensions": {},
        "state": {},
    }
