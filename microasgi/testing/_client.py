"""The sync test client: Flask's ``FlaskClient``, a ``werkzeug.test.Client`` whose
requests go to the app's ASGI interface."""

from __future__ import annotations

import importlib.metadata
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import Token
from copy import copy
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import werkzeug.test
from anyio.from_thread import BlockingPortal
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request as BaseRequest
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_current_url

from ..globals import _cv_app
from ..lifespan import run_lifespan
from ._environ import Environ, EnvironBuilder, builder_kwargs, scope_from_environ
from ._exchange import Exchange, LoopThread, serve_while
from ._websockets import WebsocketSession, open_websocket

if TYPE_CHECKING:
    from ..app import MicroASGI
    from ..ctx import AppContext
    from ..sessions import SessionMixin


class Preserving:
    """``with client:`` keeps each request's context, and the last one current."""

    application: MicroASGI

    def __init__(self) -> None:
        #: Whether requests keep their context (inside ``with client:``), as Flask's.
        self.preserve_context = False
        # Contexts kept, each waiting for its teardown.
        self._preserved: list[tuple[AppContext, BaseException | None]] = []
        self._pushed: Token[AppContext] | None = None

    def _keep(self, ctx: AppContext, error: BaseException | None) -> None:
        self._preserved.append((ctx, error))

    def _push_preserved(self) -> None:
        """Make the last request's context current in the caller's context (once: a
        followed redirect's request comes back here twice)."""
        if self._preserved and self._pushed is None:
            ctx = self._preserved[-1][0]
            self._pushed = _cv_app.set(ctx)

    def _pop_pushed(self) -> list[tuple[AppContext, BaseException | None]]:
        """Undo :meth:`_push_preserved`; return the kept contexts to tear down."""
        if self._pushed is not None:
            token, self._pushed = self._pushed, None
            # Concurrent requests (an async test's task group) push from other
            # tasks; their tokens belong to contexts that end with those tasks.
            with suppress(ValueError):
                _cv_app.reset(token)
        preserved, self._preserved = self._preserved, []
        return preserved


async def teardown_preserved(app: MicroASGI, ctx: AppContext, error: BaseException | None) -> None:
    """End a context ``with client:`` kept: its teardown hooks, then its request closes."""
    token = _cv_app.set(ctx)
    try:
        await app._teardown(ctx, error)
    finally:
        _cv_app.reset(token)


def shut_workers(app: Any) -> None:
    """End the app's idle worker threads (a client's last act)."""
    workers = getattr(app, "_workers", None)  # a microasgi app's (an ASGI app may be given)
    if workers is not None:
        workers.shutdown()


_werkzeug_version = importlib.metadata.version("werkzeug")
_GIVEN_COOKIE = "microasgi.test.cookie"  # a Cookie header the test gave, in the environ


class TestClient(Preserving, werkzeug.test.Client):
    """Flask's test client (``FlaskClient``), for a :class:`MicroASGI` app.

    Create it with ``app.test_client()``. It is a ``werkzeug.test.Client``:
    requests take :class:`EnvironBuilder`'s arguments (``json=``, ``data=``
    with files, ``query_string=``, ``headers=``, ``auth=``, ``environ_base=``,
    ``follow_redirects=``...), cookies are Werkzeug's (``get_cookie``,
    ``set_cookie``, ``delete_cookie``), and responses are
    ``werkzeug.test.TestResponse``. The app's sync code runs on the calling
    thread. ``with client:`` runs lifespan and keeps the last request's context
    (``request``, ``session``, ``g``) until the next request or the block's end.

    ``base_url`` (microasgi's) is the default base URL of every request; without
    it, the base URL comes from the app's config, as in Flask.
    """

    __test__ = False  # not a pytest test class
    application: MicroASGI  # type: ignore[assignment]  # the app, as Flask's (not WSGI: see _wsgi)

    def __init__(
        self,
        application: MicroASGI,
        response_wrapper: type[BaseResponse] | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
        *,
        base_url: str | None = None,
    ) -> None:
        if response_wrapper is not None and not issubclass(response_wrapper, BaseResponse):
            response_wrapper = None  # an app's response_class is sans-IO: Werkzeug's then
        werkzeug.test.Client.__init__(
            self,
            cast(Any, application),
            response_wrapper,
            use_cookies,
            allow_subdomain_redirects,
        )
        Preserving.__init__(self)
        self.base_url = base_url
        #: What every request's environ starts from, as Flask's client.
        self.environ_base: Environ = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{_werkzeug_version}",
        }
        self._loop: LoopThread | None = None
        self._finalizer: Any = None  # weakref.finalize, once a loop exists
        self._lifespan_cm: Any = None
        self._exchanges: set[Exchange] = set()  # requests whose response is still open
        self._redirecting = False

    def _portal(self) -> BlockingPortal:
        if self._loop is None:
            self._loop = LoopThread()
            # Stops the loop thread if the test never closes the client.
            self._finalizer = weakref.finalize(self, LoopThread.stop, self._loop)
        assert self._loop.portal is not None
        return self._loop.portal

    # -- building requests

    def _copy_environ(self, other: Mapping[str, Any]) -> Environ:
        return {**self.environ_base, **other}

    def _builder(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EnvironBuilder:
        kwargs = builder_kwargs(kwargs)
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base") or {})
        path = args[0] if args else kwargs.get("path", "/")
        if (
            self.base_url is not None
            and len(args) < 2
            and not kwargs.keys() & {"base_url", "subdomain", "url_scheme"}
            and not urlsplit(path).netloc
        ):
            kwargs["base_url"] = self.base_url
        return EnvironBuilder(self.application, *args, **kwargs)

    def _request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseRequest:
        """The request ``open`` makes; a ``Cookie`` header given is set aside, to
        be sent instead of the jar's cookies (Werkzeug would drop it)."""
        request = self._new_request(args, kwargs)
        environ = request.environ
        cookie = environ.pop("HTTP_COOKIE", None)
        if cookie and not self._redirecting:  # a redirect sends the jar's cookies only
            environ[_GIVEN_COOKIE] = cookie
        return request

    def _new_request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseRequest:
        """The request for any of the forms of arguments Flask's client takes."""
        if args and isinstance(args[0], werkzeug.test.EnvironBuilder):
            builder = copy(args[0])
            builder.environ_base = self._copy_environ(builder.environ_base or {})
            return builder.get_request()
        if args and isinstance(args[0], dict):
            return EnvironBuilder.from_environ(
                args[0], app=self.application, environ_base=self._copy_environ({})
            ).get_request()
        if args and isinstance(args[0], BaseRequest):
            request = copy(args[0])
            request.environ = self._copy_environ(request.environ)
            return request
        builder = self._builder(args, kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    # -- sending them

    def open(
        self,
        *args: Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> TestResponse:
        """Send a request; takes :class:`EnvironBuilder`'s arguments, or one
        ``EnvironBuilder``, environ or request, as Flask's client does."""
        request = self._request(args, kwargs)
        self._finish_preserved()  # a context kept by the previous request ends now
        response = super().open(request, buffered=buffered, follow_redirects=follow_redirects)
        response.json_module = self.application.json  # type: ignore[assignment]
        self._push_preserved()
        return response

    def run_wsgi_app(
        self, environ: Environ, buffered: bool = False
    ) -> tuple[Iterable[bytes], str, Headers]:
        """Werkzeug's step that calls the app: here, through its ASGI interface."""
        self._add_cookies(environ)
        rv = werkzeug.test.run_wsgi_app(self._wsgi, environ, buffered=buffered)
        url = urlsplit(get_current_url(environ))
        self._update_cookies_from_response(
            url.hostname or "localhost", url.path, rv[2].getlist("Set-Cookie")
        )
        return rv

    def _add_cookies(self, environ: Environ) -> None:
        given = environ.get(_GIVEN_COOKIE)
        if given:  # the test said which cookies to send
            environ["HTTP_COOKIE"] = given
        else:
            self._add_cookies_to_wsgi(environ)

    def _wsgi(self, environ: Environ, start_response: Callable[..., Any]) -> Iterator[bytes]:
        exchange = Exchange(self, environ)
        self._portal().start_task_soon(exchange.serve)
        return exchange.body(start_response)

    def resolve_redirect(self, response: TestResponse, buffered: bool = False) -> TestResponse:
        """Werkzeug's: request the ``Location`` of a redirect (``follow_redirects``)."""
        self._redirecting = True
        try:
            return super().resolve_redirect(response, buffered)
        finally:
            self._redirecting = False

    def _finish_preserved(self) -> None:
        for ctx, error in self._pop_pushed():
            serve_while(self._portal(), teardown_preserved, self.application, ctx, error)

    def _close_responses(self) -> None:
        for exchange in list(self._exchanges):
            exchange.close()

    # -- the session

    @contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[SessionMixin]:
        """Read and change the session the client's cookie carries; takes
        ``app.test_request_context``'s arguments, as Flask's.

        ::

            with client.session_transaction() as session:
                session["user_id"] = 1
        """
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        app = self.application
        builder = self._builder(args, kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        self._add_cookies_to_wsgi(environ)
        ctx = app.request_context(scope_from_environ(environ), environ["wsgi.input"].read())
        # The context is current while the session is opened and saved (a custom
        # interface may read `request`), but it is not a request: no hooks run.
        token = _cv_app.set(ctx)
        try:
            session = app.session_interface.open_session(app, ctx.request)
        finally:
            _cv_app.reset(token)
        if session is None:
            raise RuntimeError("Session backend did not open a session. Is SECRET_KEY set?")
        yield session
        if app.session_interface.is_null_session(session):
            return
        response = app.response_class()
        token = _cv_app.set(ctx)
        try:
            app.session_interface.save_session(app, session, response)
        finally:
            _cv_app.reset(token)
        request = ctx.request
        assert request is not None
        self._update_cookies_from_response(
            request.host.partition(":")[0],
            request.path,
            response.headers.getlist("Set-Cookie"),
        )

    # -- websockets

    @contextmanager
    def websocket_connect(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[WebsocketSession]:
        """Open a websocket to the app: ``with client.websocket_connect("/ws") as ws:``.

        A refused handshake raises :class:`WebsocketDenied` with the app's
        response. The handler's sync hooks run in worker threads, as served.
        """
        request = self._request((path,), {"headers": headers})
        self._add_cookies(request.environ)
        scope = scope_from_environ(request.environ)
        portal = self._portal()
        cm = open_websocket(self.application, scope, request, subprotocols)
        with portal.wrap_async_context_manager(cm) as conn:
            yield WebsocketSession(portal, conn)

    # -- lifespan, and the end

    def __enter__(self) -> TestClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest 'with client' blocks.")
        self._lifespan_cm = self._portal().wrap_async_context_manager(
            run_lifespan(self.application)
        )
        self._lifespan_cm.__enter__()
        self.preserve_context = True
        return self

    def __exit__(
        self,
        tp: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        try:
            self._finish_preserved()
        finally:
            cm, self._lifespan_cm = self._lifespan_cm, None
            cm.__exit__(tp, exc, tb)

    def close(self) -> None:
        """End open responses, stop the client's event loop thread and the app's idle
        worker threads."""
        try:
            self._close_responses()
        finally:
            if self._finalizer is not None:
                self._finalizer()
            shut_workers(self.application)


#: Flask's name for the sync test client.
FlaskClient = TestClient
