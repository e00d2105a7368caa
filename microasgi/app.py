"""The application: a plain ASGI callable with Flask's API.

The request path, top to bottom (``_handle_http``):

1. push the app and request contexts (two context variables);
2. match the URL (a 404/405/redirect is kept and raised after the app's
   ``before_request`` hooks, as Flask does);
3. preload the body (bounded; skipped for ``stream=True`` routes);
4. ``url_value_preprocessor`` and ``before_request`` hooks; a hook that
   returns a value short-circuits the view;
5. the view: ``async def`` awaited on the loop, ``def`` in a worker thread;
6. ``make_response`` turns the return value into a :class:`Response`;
7. ``after_this_request`` and ``after_request`` hooks, then the session is saved;
8. the response is sent (streamed bodies watch for the client leaving);
9. ``teardown_request`` and ``teardown_appcontext`` hooks run, whatever happened:
   after a streamed body, which may still read the request; before a complete
   body or a file is sent, as in Flask, so a thread kept for a ``def`` teardown
   is not held while a slow client reads.

Exceptions from 2-7 go to :meth:`MicroASGI.handle_user_exception` (error
handlers by code, then by class); anything still unhandled is logged and
answered with a bare 500 by :meth:`MicroASGI.handle_exception`: the one
error boundary.

What each route needs (which hooks apply, whether its view is async) is
worked out once, when the app starts serving, into a :class:`RoutePlan` kept on
the route's rule, so the per-request work is only what the request needs.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, suppress
from functools import partial
from itertools import chain
from types import CoroutineType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

import anyio
from werkzeug.datastructures import Headers
from werkzeug.routing import RoutingException

from .bridge import (
    WorkerPool,
    call_async,
    release_request_slot,
    release_request_thread,
    run_in_request_thread,
    thread_limiter,
)
from .commands import AppGroup
from .ctx import AppContext, _AppCtxGlobals, made_up_request
from .debughelpers import debug_response, explain_flask_context_error, start_watchdog, stop_watchdog
from .devserver import run_app
from .docs_pages import add_docs_pages
from .exceptions import (
    BadRequest,
    BadRequestKeyError,
    ClientGone,
    HTTPException,
    InternalServerError,
    NotFound,
    RequestRedirect,
)
from .files import FileResponse, send_file_max_age, send_static_file
from .globals import _NO_REQUEST, _cv_app
from .lifespan import run_lifespan
from .memory import gc_tuning_wanted, tune_gc
from .openapi_route import add_openapi_route
from .routing import BuildError
from .sansio.app import App
from .sansio.blueprints import blueprint_lineage
from .sansio.plans import RoutePlan, call_with_kwargs
from .sansio.scaffold import is_async_callable
from .sessions import SecureCookieSessionInterface, SessionInterface
from .signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from .signals import request_path_listened as _listened
from .templating import create_environment, template_location, update_template_context
from .typed import TypedRoute
from .typed.models import encode, is_model
from .typed.openapi import build_openapi
from .typed.problems import media_type
from .typing import (
    ASGIApp,
    Receive,
    ResponseReturnValue,
    Scope,
    Send,
)
from .websockets import Websocket, WebsocketDisconnect
from .wrappers.request import Request, check_host
from .wrappers.response import _HTML, ASGIResponse, Response, client_gone, error_response

if TYPE_CHECKING:
    from jinja2 import Environment

    from .testing import AsyncTestClient, CliRunner, TestClient

T = TypeVar("T")

#: A websocket handler's error that no error handler answered (close with 1011).
_UNHANDLED: Any = object()
#: Stands for "answer the routing error" (404, 405, redirect) in _dispatch.
_ROUTING_ERROR: Any = object()
#: Stands for "run Flask's own request steps" (an app that overrides them) in _dispatch.
_FLASK_STEPS: Any = object()
#: Flask's "no argument given" for the teardown methods' ``exc``.
_sentinel: Any = object()
#: Flask's overridable methods, by the part of the request path each one replaces.
_DISPATCH_METHODS = (
    "full_dispatch_request",
    "preprocess_request",
    "dispatch_request",
    "finalize_request",
    "make_response",
    "process_response",
)
_USER_ERROR_METHODS = ("handle_user_exception", "handle_http_exception")
_TEARDOWN_METHODS = ("do_teardown_request", "do_teardown_appcontext")
#: What a view's return value may be as a body, and as headers in a 2-tuple.
_BODY_TYPES = (str, bytes, bytearray)
_HEADER_TYPES = (dict, tuple, list, Headers)


class MicroASGI(App):
    """The application: register views and hooks on it, then serve it with any ASGI server.

    ::

        from microasgi import MicroASGI

        app = MicroASGI(__name__)

        @app.get("/")
        async def index():
            return {"hello": "world"}

    ``uvicorn module:app`` serves it; so does ``microasgi --app module:app run``.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    app_ctx_globals_class: type[_AppCtxGlobals] = _AppCtxGlobals
    session_interface: SessionInterface = SecureCookieSessionInterface()

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name,
            static_url_path=static_url_path,
            static_folder=static_folder,
            static_host=static_host,
            host_matching=host_matching,
            subdomain_matching=subdomain_matching,
            template_folder=template_folder,
            instance_path=instance_path,
            instance_relative_config=instance_relative_config,
            root_path=root_path,
        )
        self.asgi_app = self._own_asgi_app = self._asgi_app
        #: The worker threads of this app's sync code (ended at lifespan shutdown).
        self._workers = WorkerPool()
        # Serving state, filled in when the app starts serving (_first_request).
        self._has_teardown = True
        self._started = False
        self._serving_gens: list[AsyncGenerator[None, None]] = []
        self._start_lock: anyio.Lock | None = None
        self._error_plans: dict[tuple[str | None, bool], RoutePlan] = {}
        self._prefix_table: list[tuple[str, str]] = []
        # Which of Flask's request methods the app replaces (see _find_overrides).
        self._flask_dispatch = self._flask_user_errors = False
        self._flask_exception = self._flask_teardown = False
        if self.has_static_folder:
            # Flask's static route; `static_url_path` defaults to "/static".
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=self.send_static_file,
            )

    # -- what serving adds to setup ------------------------------------------------

    def make_cli_group(self, name: str) -> AppGroup:
        """``app.cli``: an :class:`AppGroup`, whose commands run in the app's context."""
        return AppGroup(name)

    def create_jinja_environment(self) -> Environment:
        """Build the Jinja2 environment (override to customise); see :mod:`microasgi.templating`."""
        return create_environment(self)

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values (app's and current blueprints') to ``context``."""
        update_template_context(self, context)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache lifetime (seconds) for a static file: ``SEND_FILE_MAX_AGE_DEFAULT``."""
        return send_file_max_age(self.config["SEND_FILE_MAX_AGE_DEFAULT"])

    def send_static_file(self, filename: str) -> FileResponse:
        """The view behind the ``static`` endpoint: a file from :attr:`static_folder`."""
        return send_static_file(self, filename)

    def _thread_limiter(self) -> anyio.CapacityLimiter:
        return thread_limiter(id(self), int(self.config["SYNC_THREAD_LIMIT"]))

    # -- contexts ----------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An application context: ``with app.app_context(): ...`` (or ``async with``)."""
        return AppContext(self)

    def request_context(self, scope: Scope, body: bytes = b"") -> AppContext:
        """A request context for an ASGI ``scope`` whose body is ``body``."""
        request = self.request_class(scope)
        request._data = body
        return AppContext(self, request)

    def test_request_context(self, *args: Any, **kwargs: Any) -> AppContext:
        """A request context for a made-up request, with Werkzeug's ``EnvironBuilder``'s
        arguments, as Flask's: ``with app.test_request_context("/?page=2", method="POST",
        json={...}):``."""
        scope, body = made_up_request(self, *args, **kwargs)
        return self.request_context(scope, body)

    # -- URLs ----------------------------------------------------------------------

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of ``endpoint``; extra ``values`` become the query string.

        During a request the URL is relative (``/users/1``) and includes the
        prefix the app is mounted at; ``_external=True`` adds scheme and host
        (``SERVER_NAME`` if set, else the request's). A rule on another
        subdomain or host than the request's gives a whole URL. Outside a
        request, ``SERVER_NAME`` is needed, and URLs are external.
        ``.name`` is relative to the current blueprint.
        """
        ctx = _cv_app.get(None)
        request = ctx.request if ctx is not None else None
        if request is not None:
            if endpoint.startswith("."):
                blueprint = request.blueprint
                endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            if endpoint.startswith("."):
                endpoint = endpoint[1:]
            if self.config["SERVER_NAME"] is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME'"
                    " configured. Also configure 'APPLICATION_ROOT' and"
                    " 'PREFERRED_URL_SCHEME' as needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        urls = self.url_map
        try:
            if request is not None and not _external and not urls.has_domains:
                # The common case: a path under the request's root path, no host needed.
                # root_path is decoded; the built path is quoted already.
                url = quote(request.root_path) + urls.build(endpoint, values, method=_method)
            else:
                adapter = self.create_url_adapter(request)
                assert adapter is not None  # SERVER_NAME is set (checked above)
                url = adapter._url_for(endpoint, values, _method, _external, _scheme)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        return url

    # -- ASGI entry point -------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI interface; forwards to :attr:`asgi_app` (so middleware can wrap it)."""
        app = self.asgi_app
        if app is self._own_asgi_app and scope["type"] == "http":
            # Not wrapped: straight to the request path, one coroutine less.
            await self._handle_http(scope, receive, send)
        else:
            await app(scope, receive, send)

    async def _asgi_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._handle_http(scope, receive, send)
        elif kind == "lifespan":
            await self._handle_lifespan(scope, receive, send)
        elif kind == "websocket":
            await self._handle_websocket(scope, receive, send)
        else:
            raise RuntimeError(f"Unknown ASGI scope type {kind!r}.")

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._got_first_request:
            await self._first_request()
        request = self.request_class(scope, receive)
        plan = self._match(request, False)
        if plan.__class__ is tuple:  # a mounted app's path (no isinstance: the hot path)
            await self._call_mounted(plan, request, scope, receive, send)
            return
        ctx = AppContext(self, request)
        token = _cv_app.set(ctx)
        error: BaseException | None = None
        ended = kept = False  # teardown ran; the test client keeps the context
        try:
            try:
                response = await self._dispatch(ctx, plan)  # type: ignore[arg-type]
            except ClientGone:
                return  # nobody left to answer
            except Exception as exc:
                error = exc
                response = await self._handle_exception(ctx, exc)
            if response._headers is not None:  # a view or hook touched them
                try:
                    response._freeze_headers()
                except ValueError as exc:  # one assigned whole, past the checks
                    error = exc
                    response = await self._handle_exception(ctx, exc)
            extensions = scope.get("extensions")
            preserve = extensions.get("microasgi.preserve_context") if extensions else None
            if preserve is None and not response._sends_with_request:
                # A complete body or a file needs nothing of the request, so the
                # request ends before the client reads it, as in Flask: a thread
                # kept for a sync teardown goes back now, not once a slow client
                # has read the last byte.
                ended = True
                if self._has_teardown or ctx._lease is not None or _listened.any:
                    await self._end_request(ctx, error)
            try:
                # A stream=True view may still be reading the body while the
                # response streams: only it may take body messages from receive.
                stream = request._stream
                await response(scope, stream.receive_after_body if stream else receive, send)
            except Exception as exc:
                # A streamed body failed: after its first chunk nothing more can be
                # said to the client (before it, the response sent a bare 500), but
                # the error must be seen, unless it only says the client left.
                if not client_gone(exc):
                    error = exc
                    if self.propagate_exceptions:
                        raise
                    self.log_exception((type(exc), exc, exc.__traceback__))
            if preserve is not None:
                preserve(ctx, error)  # the test client ends and closes it later
                kept = ended = True
                release_request_slot(ctx)
        finally:
            try:
                if not ended and (self._has_teardown or ctx._lease is not None or _listened.any):
                    await self._end_request(ctx, error)
            finally:
                if not kept:
                    request.close()
                _cv_app.reset(token)
                # The error's traceback holds this frame: without this, a cycle that
                # keeps the request (and its body) until the garbage collector runs.
                error = None
        if _listened.any and appcontext_popped.receivers:  # after the context, as in Flask
            await self._send(appcontext_popped)

    async def _handle_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket path: match, contexts, before_websocket hooks, handler, close."""
        if not self._got_first_request:
            await self._first_request()
        ws = Websocket(scope, receive, send)
        plan = self._match(ws, True)
        if isinstance(plan, tuple):
            await self._call_mounted(plan, ws, scope, receive, send)
            return
        ctx = AppContext(self, websocket=ws)
        token = _cv_app.set(ctx)
        error: BaseException | None = None
        try:
            if appcontext_pushed.receivers:
                await self._send(appcontext_pushed)
            if ws.routing_exception is not None:
                # Answered without being raised (see _dispatch).
                error = ws.routing_exception
                rv = await self._handle_websocket_error(ws, ws.routing_exception)
            else:
                try:
                    rv = await self._dispatch_websocket(ws, plan)
                except WebsocketDisconnect:
                    rv = None
                except Exception as exc:
                    error = exc
                    rv = await self._handle_websocket_error(ws, exc)
            for hook, is_async in plan.after:
                rv = await hook(rv) if is_async else await run_in_request_thread(hook, rv)
            if ws.accepted or rv is None:
                await ws.close(1011 if error is not None and rv is _UNHANDLED else 1000)
            else:
                await ws._deny(self.make_response(rv))
        finally:
            try:
                await self._end_request(ctx, error)
            finally:
                _cv_app.reset(token)
                error = None  # no cycle through this frame (see _handle_http)
        if appcontext_popped.receivers:
            await self._send(appcontext_popped)

    def _match(
        self, connection: Request | Websocket, websocket: bool
    ) -> RoutePlan | tuple[str, ASGIApp]:
        """Steps 1-2, for requests and websockets alike: the plan that answers the
        connection, or the mounted app ``(prefix, app)`` that takes it.

        A routing error (an untrusted Host, a 404, a 405, a redirect) is kept on
        the connection, to answer after the hooks, with the plan that answers it.
        """
        found: Any = check_host(connection.scope["headers"], self.config["TRUSTED_HOSTS"])
        if found is None:
            try:
                found = (
                    self._find_on_host(connection, websocket)
                    if self._routes_by_host  # else the Host is not even read
                    else self.url_map.find(connection.path, connection.method, websocket)
                )
            except HTTPException as exc:  # a converter may abort() too, as in Flask
                found = exc
            if found.__class__ is tuple:
                rule, connection.view_args = found
                connection.url_rule = rule
                return rule.plan  # type: ignore[no-any-return]
            # Routes first, then mounted apps: a mount only sees paths no route has.
            if self._mounts and type(found) is NotFound:
                mount = self._find_mount(connection.path)
                if mount is not None:
                    return mount
        return self._routing_error(connection, found, websocket)

    async def _dispatch_websocket(self, ws: Websocket, plan: RoutePlan) -> Any:
        if plan.preprocessors or plan.before:
            rv = await _before(plan, ws)
            if rv is not None:
                return rv
        return await self._call_view(ws, plan)

    async def _handle_websocket_error(self, ws: Websocket, exc: Exception) -> Any:
        """An error handler's answer to ``exc``, or the HTTP error; unhandled ones are logged.

        Before the handshake is accepted, the answer refuses it; afterwards the
        socket closes (1011 for an unhandled error).
        """
        http_exc = exc if isinstance(exc, HTTPException) else None
        handler = self._find_error_handler(exc, ws.blueprints)
        if handler is not None:
            try:
                return await self._call(handler, exc)
            except Exception as handler_exc:
                exc = handler_exc
                http_exc = None
        if http_exc is not None:
            return error_response(http_exc)
        if self.propagate_exceptions and not ws.accepted:
            raise exc
        self.log_exception((type(exc), exc, exc.__traceback__))
        if ws.accepted:
            return _UNHANDLED
        return error_response(InternalServerError())

    async def _end_request(self, ctx: AppContext, error: BaseException | None) -> None:
        """Teardown hooks, whatever happened; then the thread held for sync code goes back.

        Where every request and websocket ends (a websocket runs no
        ``teardown_request`` hooks, as it runs no ``before_request`` ones).
        """
        try:
            request = ctx.request
            if self._flask_teardown:
                steps = [self.do_teardown_appcontext]
                if request is not None:
                    steps.insert(0, self.do_teardown_request)
                await self._teardown_hooks(error, steps)
            elif (
                self._has_teardown
                or request_tearing_down.receivers
                or appcontext_tearing_down.receivers
            ):
                if request is not None:
                    await self._teardown_hooks(error, self._teardown_funcs_for(request.blueprints))
                    if request_tearing_down.receivers:
                        await self._send(request_tearing_down, exc=error)
                await self._teardown_hooks(error, reversed(self.teardown_appcontext_funcs))
                if appcontext_tearing_down.receivers:
                    await self._send(appcontext_tearing_down, exc=error)
        finally:
            if ctx._lease is not None:
                release_request_thread(ctx)

    async def _teardown(self, ctx: AppContext, error: BaseException | None) -> None:
        """End a request kept by the test client (``with client:``), and close it."""
        try:
            await self._end_request(ctx, error)
        finally:
            if ctx.request is not None:
                ctx.request.close()

    # -- dispatch: the request path's own steps ------------------------------------
    #
    # The steps below are the fast path, on the event loop. Flask's overridable
    # methods (further down: ``full_dispatch_request``, ``handle_user_exception``
    # ...) are the same steps with Flask's signatures: plain sync methods, run in
    # the request's worker thread. An app that overrides or wraps one of them (a
    # subclass, or an extension assigning ``app.handle_exception``) has the
    # request path call it there instead of the step it replaces (see
    # ``_find_overrides``).

    def _routing_error(
        self, connection: Request | Websocket, exc: HTTPException, websocket: bool
    ) -> RoutePlan:
        """Keep a 404/405/redirect to raise after the hooks; the plan that answers it."""
        if isinstance(exc, RequestRedirect):
            # The router knows the path only; the client needs the whole URL.
            query = connection.query_string.decode("latin-1")
            exc.new_url = connection.root_path + exc.new_url + (f"?{query}" if query else "")
        # Without the traceback of a converter's raise: it holds the request path's
        # frame, which holds the request (a reference cycle).
        connection.routing_exception = exc.with_traceback(None)
        plan = self._error_plan(connection.path, websocket)
        connection._blueprints = plan.blueprints
        return plan

    async def _dispatch(self, ctx: AppContext, plan: RoutePlan) -> Response:
        """Preload, hooks, view, response, after-hooks: steps 3 to 7."""
        request = ctx.request
        assert request is not None
        try:
            if _listened.any and appcontext_pushed.receivers:
                await self._send(appcontext_pushed)
            config = self.config
            if plan.preload:
                if not request._body_is_empty():
                    await request._load_body(
                        config["MAX_CONTENT_LENGTH"], config["BODY_MEMORY_LIMIT"]
                    )
            else:
                request._open_stream(config["MAX_CONTENT_LENGTH"])
            if self._flask_dispatch:
                rv = _FLASK_STEPS
            else:
                if _listened.any and request_started.receivers:
                    await self._send(request_started)
                rv = await _before(plan, request) if plan.preprocessors or plan.before else None
                if rv is None:
                    if request.routing_exception is not None:
                        rv = _ROUTING_ERROR
                    else:
                        rv = self._call_view(request, plan)
                        if rv.__class__ is CoroutineType:
                            rv = await rv
                            if rv.__class__ is CoroutineType:
                                # A sync decorator (login_required, say) around an async view.
                                rv = await rv
        except ClientGone:
            raise
        except Exception as exc:
            rv = await self._handle_user_exception(request, exc)
            if self._flask_dispatch:  # the body failed before Flask's steps could start
                return await run_in_request_thread(self.finalize_request, rv)
        if rv is _ROUTING_ERROR:
            # Answered without raising it here: its traceback would hold this frame,
            # and the frame the request that holds the exception (a reference cycle
            # per 404, left for the garbage collector).
            assert request.routing_exception is not None
            rv = await self._handle_user_exception(request, request.routing_exception)
        if rv is _FLASK_STEPS:
            return await run_in_request_thread(self.full_dispatch_request)
        try:
            response = self.make_response(rv)
            # Most routes have no after-hooks, and most requests no session.
            if plan.after or ctx._after_request_functions or ctx._session is not None:
                response = await self._process_response(ctx, response, plan)
            if _listened.any and request_finished.receivers:
                await self._send(request_finished, response=response)
            return response
        except HTTPException as exc:
            # An after-hook that reads bad input (request.args past its limit) is
            # still the client's mistake: its 4xx, not a 500.
            return error_response(exc)

    def _call_view(self, connection: Request | Websocket, plan: RoutePlan) -> Any:
        """Call the view (or websocket handler): what it returns, or a coroutine to await.

        An async view's coroutine, or the run of a sync view in the request's
        worker thread (a generator function is called on the loop: that only
        makes the generator). Answers an automatic OPTIONS.
        """
        if connection.method == "OPTIONS" and plan.automatic_options:
            return self.make_default_options_response()
        view = plan.view
        assert view is not None  # only error plans have none, and they never get here
        args = connection.view_args
        if plan.typed is not None:
            typed = plan.typed.for_method(connection.method)
            if typed is not None:
                return self._call_typed(connection, plan, typed, view)
        if plan.threaded:
            final = plan.view_is_last
            if args:
                return run_in_request_thread(call_with_kwargs, view, args, final=final)
            return run_in_request_thread(view, final=final)
        return view(**args) if args else view()

    def _call_typed(
        self, connection: Request | Websocket, plan: RoutePlan, typed: TypedRoute, view: Any
    ) -> Any:
        """Call a typed view: its parameters bound and validated here, on the loop; a def
        view and the encoding of its value in one call in the request's thread."""
        kwargs = typed.bind(connection, connection.view_args or {}, self.problem_formatter)
        if plan.threaded:
            return run_in_request_thread(
                typed.call, view, kwargs, self._json_bytes_response, final=plan.view_is_last
            )
        rv = view(**kwargs)
        if rv.__class__ is CoroutineType:
            return typed.finish_async(rv, self._json_bytes_response)
        return typed.finish(rv, self._json_bytes_response)

    def _json_bytes_response(self, data: bytes, status: int) -> Response:
        return self.response_class(data, status, mimetype="application/json")

    async def _process_response(
        self, ctx: AppContext, response: Response, plan: RoutePlan
    ) -> Response:
        """Run ``after_this_request`` and ``after_request`` hooks, then save the session."""
        for func in ctx._after_request_functions or ():
            response = await self._call(func, response)
        for hook, is_async in plan.after:
            response = (
                await hook(response) if is_async else await run_in_request_thread(hook, response)
            )
        session = ctx._session
        if session is not None and not self.session_interface.is_null_session(session):
            self.session_interface.save_session(self, session, response)
        return response

    async def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call a hook or handler: an async one on the loop, a sync one in the request's thread."""
        if is_async_callable(func):
            return await func(*args)
        rv = await run_in_request_thread(func, *args)
        return await rv if isinstance(rv, CoroutineType) else rv

    async def _send(self, signal: Any, **kwargs: Any) -> None:
        """Send a request signal as Flask does, from the request's thread: sync receivers
        run there, async ones on the loop (through :meth:`ensure_sync`)."""
        send = partial(signal.send, self, _async_wrapper=self.ensure_sync, **kwargs)
        await run_in_request_thread(send)

    def _overrides(self, name: str) -> bool:
        """Whether Flask's method ``name`` is replaced: by a subclass, or on the instance."""
        return name in self.__dict__ or getattr(type(self), name) is not getattr(MicroASGI, name)

    def _find_overrides(self) -> None:
        # Flask's request methods, overridden or wrapped: each of these sends the
        # request (or its error path, or its teardown) through Flask's own sync
        # sequence, in the request's thread.
        self._flask_dispatch = any(self._overrides(name) for name in _DISPATCH_METHODS)
        self._flask_user_errors = any(self._overrides(name) for name in _USER_ERROR_METHODS)
        self._flask_exception = self._overrides("handle_exception")
        self._flask_teardown = any(self._overrides(name) for name in _TEARDOWN_METHODS)

    def _plan_routes(self) -> None:
        """Work out every route's plan (and the 404/405 plans) from the hooks as they are.

        Plans are updated in place, so a request in flight sees hooks added
        while it ran, as in Flask, which reads the hook lists per request.
        """
        for rule in self.url_map.iter_rules():
            if rule.plan is None:
                rule.plan = RoutePlan(self, rule)
            else:
                RoutePlan.__init__(rule.plan, self, rule)
        for (name, websocket), plan in self._error_plans.items():
            RoutePlan.__init__(plan, self, None, blueprint_lineage(name) if name else (), websocket)
        self._has_teardown = (
            bool(self.teardown_appcontext_funcs)
            or any(self.teardown_request_funcs.values())
            or self._flask_teardown
        )

    def _hooks_changed(self) -> None:
        # Flask reads its hook lists for every request; extensions add to them even
        # while serving (Flask-Caching, from a view): plan again.
        if getattr(self, "_got_first_request", False):
            self._plan_routes()

    async def _first_request(self) -> None:
        """Freeze setup and plan every route; run ``before_serving`` if no lifespan did."""
        if self._start_lock is None:
            self._start_lock = anyio.Lock()
        async with self._start_lock:
            if self._got_first_request:
                return
            # Longest prefix first, so the innermost blueprint claims a path.
            prefixes = [
                (prefix.rstrip("/") or "/", name)
                for name, prefix in self._blueprint_prefixes.items()
                if prefix
            ]
            self._prefix_table = sorted(prefixes, key=lambda item: len(item[0]), reverse=True)
            self._find_overrides()
            add_openapi_route(self)
            add_docs_pages(self)  # routes where the URLs are free: nothing for other requests
            self._plan_routes()
            if not self._started:
                # Embedded in another stack, no lifespan reaches us: start now.
                await self.startup()
            self._got_first_request = True

    # -- return values -------------------------------------------------------------

    def make_response(self, rv: ResponseReturnValue | Any) -> Response:
        """Turn a view's return value into a :class:`Response`.

        ``str`` (HTML), ``bytes``, ``dict``/``list`` (JSON), a :class:`Response`,
        a sync or async generator (streamed), any ASGI app (a Starlette
        response), a model (a msgspec ``Struct``, dataclass, attrs or pydantic
        model instance: JSON, a :class:`Problem` as ``application/problem+json``),
        or a tuple ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``.
        """
        kind = rv.__class__
        if kind is str:  # the common cases first, without the general checks
            return self.response_class._ready(rv.encode(), _HTML)  # type: ignore[union-attr]
        # (No typing.cast here: on the hot path its call costs more than the check.)
        if kind is dict:
            return self.json.response(rv)  # type: ignore[return-value]
        if kind is self.response_class:
            return rv  # type: ignore[return-value]
        status = headers = None
        if isinstance(rv, tuple):
            length = len(rv)
            if length == 3:
                rv, status, headers = rv
            elif length == 2:
                if isinstance(rv[1], _HEADER_TYPES):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple"
                    " must have the form (body, status, headers), (body, status), or"
                    " (body, headers)."
                )
            if rv.__class__ is str:
                return self.response_class(rv, status, headers)
        if rv is None:
            ctx = _cv_app.get(None)
            endpoint = ctx.request.endpoint if ctx and ctx.request else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The"
                " function either returned None or ended without a return statement."
            )
        response: Response
        if isinstance(rv, Response):
            response = rv
        elif isinstance(rv, _BODY_TYPES):
            response = self.response_class(rv, status, headers)
            status = headers = None
        elif isinstance(rv, dict | list):
            response = self.json.response(rv)  # type: ignore[assignment]
        elif isinstance(rv, Iterator) or hasattr(rv, "__aiter__"):
            response = self.response_class(rv, status, headers)
            status = headers = None
        elif isinstance(rv, HTTPException):
            response = error_response(rv)
        elif is_model(rv.__class__):  # a typed view's model, from any view or handler
            response = self.response_class(encode(rv), mimetype=media_type(rv.__class__))
        elif callable(rv):
            response = ASGIResponse(cast(ASGIApp, rv))
        else:
            raise TypeError(
                "The view function did not return a valid response. The return type"
                f" must be a string, dict, list, tuple with headers or status,"
                f" Response instance, model, generator, or ASGI callable, but it was a"
                f" {type(rv).__name__}."
            )
        if status is not None:
            response.status = status
        if headers is not None:
            response.headers.update(headers)
        return response

    # -- errors ------------------------------------------------------------------

    def _find_error_handler(
        self, exc: BaseException, blueprints: Iterable[str]
    ) -> Callable[[Any], Any] | None:
        """Handler for ``exc``: by code before class, a blueprint's before the app's."""
        exc_class = type(exc)
        code = exc.code if isinstance(exc, HTTPException) else None
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = self.error_handler_spec[name][c]
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def _user_error_handler(
        self, exc: Exception, blueprints: Iterable[str]
    ) -> Callable[[Any], Any] | None:
        """The handler :meth:`handle_user_exception` would call for ``exc``; ``None``
        when ``exc`` (an HTTP error) answers itself; re-raises an unhandled ``exc``."""
        if isinstance(exc, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            exc.show_exception = True  # the missing key is named in the answer
        if isinstance(exc, HTTPException) and not self.trap_http_exception(exc):
            if exc.code is None or isinstance(exc, RoutingException):
                return None  # a redirect from routing, a proxy's error: answered as it is
            return self._find_error_handler(exc, blueprints)
        handler = self._find_error_handler(exc, blueprints)
        if handler is None:
            try:
                raise exc  # to the error boundary: a 500, or the test sees it
            finally:
                # The traceback holds this frame, and the frame would hold the
                # exception: a cycle that keeps the request until the GC runs.
                del exc
        return handler

    async def _handle_user_exception(self, request: Request, exc: Exception) -> Any:
        """:meth:`handle_user_exception` on the loop: what answers ``exc``."""
        if self._flask_user_errors:
            return await run_in_request_thread(self.handle_user_exception, exc)
        try:
            handler = self._user_error_handler(exc, request.blueprints)
        except BaseException:
            del exc  # this frame is in the traceback: no cycle through it
            raise
        if handler is None:
            return error_response(exc)  # type: ignore[arg-type]
        try:
            return await self._call(handler, exc)
        except HTTPException as raised:  # the handler hit bad input itself
            return error_response(raised)

    def handle_user_exception(self, e: Exception) -> HTTPException | ResponseReturnValue:
        """Answer ``e`` with its error handler, or as an HTTP error; re-raise the rest.

        Flask's method: sync, with the current request. Errors raised in a view
        or hook come here; override it (or wrap it on the app) and the request
        path calls yours, in the request's thread.
        """
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)
        handler = self._find_error_handler(e, _current_blueprints())
        if handler is None:
            raise e
        return self.ensure_sync(handler)(e)  # type: ignore[no-any-return]

    def handle_http_exception(self, e: HTTPException) -> HTTPException | ResponseReturnValue:
        """Answer an HTTP error with its handler, or with the error itself (Flask's method).

        A redirect from routing, and an error without a code, are never handled.
        """
        if e.code is None or isinstance(e, RoutingException):
            return e
        handler = self._find_error_handler(e, _current_blueprints())
        if handler is None:
            return e
        return self.ensure_sync(handler)(e)  # type: ignore[no-any-return]

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error is raised as any other exception rather than answered.

        Flask's rules: ``TRAP_HTTP_EXCEPTIONS`` traps them all;
        ``TRAP_BAD_REQUEST_ERRORS`` the 400s (left unset, in debug mode, a
        missing form or query key). A trapped error still goes to a handler for
        its class; without one it is a 500, or raised in the test that made the
        request (``PROPAGATE_EXCEPTIONS``), which is what the keys are for.
        """
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    async def _handle_exception(self, ctx: AppContext, exc: Exception) -> Response:
        """:meth:`handle_exception` on the loop: log ``exc``, answer 500."""
        if self._flask_exception:
            return await run_in_request_thread(self.handle_exception, exc)
        explain_flask_context_error(exc)  # real Flask's `request` used here: say so
        if got_request_exception.receivers:
            await self._send(got_request_exception, exception=exc)
        if self.propagate_exceptions:
            try:
                raise exc
            finally:
                del exc  # no cycle through this frame
        self.log_exception((type(exc), exc, exc.__traceback__))
        server_error = InternalServerError(original_exception=exc)
        blueprints = ctx.request.blueprints if ctx.request is not None else ()
        handler = self._find_error_handler(server_error, blueprints)
        response = None
        if handler is not None:
            try:
                response = self.make_response(await self._call(handler, server_error))
            except Exception as handler_exc:
                self.logger.error(
                    "The error handler for 500 raised; answering with a bare 500.",
                    exc_info=handler_exc,
                )
        if response is None and self.debug:
            response = debug_response(exc, ctx.request, self.response_class)
        if response is None:
            response = error_response(server_error)
        try:
            # As in Flask, after_request hooks see the error response too.
            return await self._process_response(ctx, response, self._plan_for(ctx.request))
        except Exception as hook_exc:
            self.logger.error(
                "An after_request hook failed on the 500 response.", exc_info=hook_exc
            )
            return response

    def handle_exception(self, e: Exception) -> Response:
        """The error boundary, Flask's method: log ``e`` and answer 500.

        Sends ``got_request_exception``; re-raises ``e`` if
        :attr:`propagate_exceptions` (in tests); otherwise the 500 handler's
        answer (it gets an ``InternalServerError`` whose ``original_exception``
        is ``e``), or a bare 500, through ``after_request`` hooks.
        """
        explain_flask_context_error(e)
        got_request_exception.send(self, _async_wrapper=self.ensure_sync, exception=e)
        if self.propagate_exceptions:
            raise e
        self.log_exception((type(e), e, e.__traceback__))
        server_error: Any = InternalServerError(original_exception=e)
        handler = self._find_error_handler(server_error, _current_blueprints())
        if handler is not None:
            server_error = self.ensure_sync(handler)(server_error)
        elif self.debug:
            server_error = debug_response(e, _cv_app.get().request, self.response_class)
        return self.finalize_request(server_error, from_error_handler=True)

    def _plan_for(self, request: Request | None) -> RoutePlan:
        rule = request.url_rule if request is not None else None
        if rule is not None and rule.plan is not None:
            return rule.plan  # type: ignore[no-any-return]
        return self._error_plan(request.path if request is not None else "/")

    def _error_plan(self, path: str, websocket: bool = False) -> RoutePlan:
        """The plan for a 404/405 at ``path``: the innermost blueprint whose prefix holds it."""
        name = None
        for prefix, candidate in self._prefix_table:
            if path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/"):
                name = candidate
                break
        plan = self._error_plans.get((name, websocket))
        if plan is None:
            lineage = blueprint_lineage(name) if name else ()
            plan = self._error_plans[(name, websocket)] = RoutePlan(self, None, lineage, websocket)
        return plan

    def log_exception(
        self,
        exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> None:
        """Log an unhandled exception with its traceback (Flask's method: override to change)."""
        ctx = _cv_app.get(None)
        connection = ctx.request or ctx.websocket if ctx is not None else None
        where = f"{connection.path} [{connection.method}]" if connection is not None else "?"
        location = template_location(exc_info[1]) if exc_info[1] is not None else None
        if location is not None:
            where = f"{where} in {location}"
        self.logger.error("Exception on %s", where, exc_info=exc_info)

    # -- Flask's request steps, sync (for overrides and extensions) ---------------------

    def full_dispatch_request(self) -> Response:
        """Flask's request sequence, sync: ``request_started``, :meth:`preprocess_request`,
        :meth:`dispatch_request`, errors through :meth:`handle_user_exception`, then
        :meth:`finalize_request`.

        The request path runs it, in the request's thread, only for an app that
        overrides one of these methods; otherwise it takes the same steps on the
        event loop.
        """
        rv: Any
        try:
            request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def preprocess_request(self) -> ResponseReturnValue | None:
        """Run the URL value preprocessors, then the ``before_request`` hooks (app first);
        the first value a hook returns answers instead of the view."""
        request = _current_request()
        names = (None, *reversed(request.blueprints))
        for name in names:
            for url_func in self.url_value_preprocessors.get(name, ()):
                url_func(request.endpoint, request.view_args)
        for name in names:
            for before_func in self.before_request_funcs.get(name, ()):
                rv = self.ensure_sync(before_func)()
                if rv is not None:
                    return rv  # type: ignore[no-any-return]
        return None

    def dispatch_request(self) -> ResponseReturnValue:
        """Call the view of the current request with its URL values, and return what it
        returns (Flask's method). Raises the routing error (404, 405, redirect);
        answers an automatic OPTIONS."""
        request = _current_request()
        if request.routing_exception is not None:
            raise request.routing_exception
        rule = request.url_rule
        assert rule is not None
        if request.method == "OPTIONS" and rule.provide_automatic_options:
            return self.make_default_options_response()
        view = self.view_functions[rule.endpoint]
        return self.ensure_sync(view)(**(request.view_args or {}))  # type: ignore[no-any-return]

    def finalize_request(
        self, rv: ResponseReturnValue | HTTPException, from_error_handler: bool = False
    ) -> Response:
        """Turn ``rv`` into the response, run :meth:`process_response` and send
        ``request_finished``. ``from_error_handler``: a failure there is logged
        and the response sent as it is."""
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            request_finished.send(self, _async_wrapper=self.ensure_sync, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def process_response(self, response: Response) -> Response:
        """Run the ``after_this_request`` functions and ``after_request`` hooks (innermost
        blueprint first, the app's last), then save the session (Flask's method)."""
        ctx = _cv_app.get()
        request = _current_request()
        for func in ctx._after_request_functions or ():
            response = self.ensure_sync(func)(response)
        for name in chain(request.blueprints, (None,)):
            for func in reversed(self.after_request_funcs.get(name, ())):
                response = self.ensure_sync(func)(response)
        session = ctx._session
        if session is not None and not self.session_interface.is_null_session(session):
            self.session_interface.save_session(self, session, response)
        return response

    def make_default_options_response(self) -> Response:
        """The answer to an automatic OPTIONS request: empty, with ``Allow``."""
        request = _current_request()
        response = self.response_class()
        response.headers["Allow"] = ", ".join(sorted(self._allowed_methods(request)))
        return response

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` if it is sync; an async ``func`` wrapped by :meth:`async_to_sync`.

        Flask's method, for code that calls hooks from sync code (Flask's request
        steps above, extensions).
        """
        if is_async_callable(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        """A sync function that runs the async ``func`` and returns its result.

        In a request's worker thread (or the test client's), ``func`` runs on the
        request's event loop; where no loop runs (a CLI command), on a new one.
        Called on the event loop's own thread it raises: await ``func`` there.
        """

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            return call_async(func, *args, **kwargs)

        return run

    # -- teardown ----------------------------------------------------------------

    def _teardown_funcs_for(self, blueprints: Iterable[str]) -> Iterator[Callable[..., Any]]:
        for name in chain(blueprints, (None,)):
            yield from reversed(self.teardown_request_funcs[name])

    async def _teardown_hooks(
        self, error: BaseException | None, funcs: Iterable[Callable[..., Any]]
    ) -> None:
        for func in funcs:
            try:
                await self._call(func, error)
            except Exception as hook_exc:
                self.logger.error("Error in teardown hook %r", func, exc_info=hook_exc)

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:
        """Run the ``teardown_request`` hooks (inner blueprints first, then the app's) and
        send ``request_tearing_down`` (Flask's method). ``exc`` defaults to the
        exception being handled, if any. A hook that raises stops it, as in Flask
        (the request path, which also runs the rest, logs the error)."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        for func in self._teardown_funcs_for(_current_request().blueprints):
            self.ensure_sync(func)(exc)
        request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:
        """Run the ``teardown_appcontext`` hooks, last registered first, and send
        ``appcontext_tearing_down`` (Flask's method)."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        for func in reversed(self.teardown_appcontext_funcs):
            self.ensure_sync(func)(exc)
        appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    # -- mounted apps ------------------------------------------------------------------

    def _find_mount(self, path: str) -> tuple[str, ASGIApp] | None:
        for prefix, app in self._mounts:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return prefix, app
        return None

    async def _call_mounted(
        self,
        mount: tuple[str, ASGIApp],
        connection: Request | Websocket,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        prefix, app = mount
        # Always the whole path, even from a server that stripped root_path itself.
        child = dict(scope)
        child["root_path"] = connection.root_path + prefix
        child["path"] = connection.root_path + connection.path
        await self._run_child(app, child, receive, send)

    async def _run_child(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        # This app is current while a child runs, so a mounted WSGIApp takes
        # this app's MAX_CONTENT_LENGTH.
        token = _cv_app.set(AppContext(self))
        try:
            await app(scope, receive, send)
        finally:
            _cv_app.reset(token)

    # -- lifespan ----------------------------------------------------------------

    async def startup(self) -> None:
        """Run ``before_serving`` functions and enter ``while_serving`` generators."""
        self._started = True
        # `current_app` works in these functions; it is not a request, so
        # teardown_appcontext hooks do not run for it.
        token = _cv_app.set(AppContext(self))
        try:
            for func in self.before_serving_funcs:
                await self._call(func)
            for gen_func in self.while_serving_gens:
                gen = gen_func()
                await gen.__anext__()
                self._serving_gens.append(gen)
        finally:
            _cv_app.reset(token)
        if gc_tuning_wanted(self.config["GC_TUNING"], self.testing):
            tune_gc()
        if self.debug:
            start_watchdog(self)  # async views that block the loop get a warning

    async def shutdown(self) -> None:
        """Finish ``while_serving`` generators (last first), run ``after_serving``, then end
        the worker threads of sync code."""
        token = _cv_app.set(AppContext(self))
        try:
            while self._serving_gens:
                gen = self._serving_gens.pop()
                try:
                    await gen.__anext__()
                except StopAsyncIteration:
                    pass
                else:
                    raise RuntimeError(f"while_serving generator {gen!r} yielded more than once.")
            for func in self.after_serving_funcs:
                await self._call(func)
        finally:
            _cv_app.reset(token)
            self._started = False
            self._workers.shutdown()
            stop_watchdog(self)

    async def _handle_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            raise RuntimeError(f"Expected lifespan.startup, got {message['type']!r}.")
        # Mounted children start first (this app's before_serving may use them)
        # and stop last; Starlette does not forward lifespan to mounts, we do.
        children = AsyncExitStack()
        try:
            for _, child in reversed(self._mounts):
                await children.enter_async_context(run_lifespan(child))
            await self.startup()
        except BaseException as exc:
            self.logger.error("Startup failed", exc_info=exc)
            with suppress(Exception):
                await children.aclose()
            await send({"type": "lifespan.startup.failed", "message": _describe(exc)})
            if not isinstance(exc, Exception):
                raise
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        if message["type"] != "lifespan.shutdown":
            raise RuntimeError(f"Expected lifespan.shutdown, got {message['type']!r}.")
        try:
            try:
                await self.shutdown()
            finally:
                await children.aclose()
        except Exception as exc:
            self.logger.error("Shutdown failed", exc_info=exc)
            await send({"type": "lifespan.shutdown.failed", "message": _describe(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})

    # -- running and testing -------------------------------------------------------

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        *,
        use_reloader: bool | None = None,
        threaded: bool = True,
        processes: int = 1,
        ssl_context: Any = None,
        **options: Any,
    ) -> None:
        """Serve with uvicorn, as Flask's ``run`` serves with Werkzeug: for development (in
        production, ``microasgi run`` or an ASGI server). Flask's arguments:

        - ``host``, ``port``: default to ``SERVER_NAME``'s, else ``127.0.0.1:5000``;
        - ``debug``: sets :attr:`debug` (and uvicorn's log level);
        - ``load_dotenv``: first read ``.flaskenv`` and ``.env`` (and ``MICROASGI_DEBUG`` or
          ``FLASK_DEBUG`` from them); ``MICROASGI_SKIP_DOTENV=1`` skips them too;
        - ``use_reloader`` (on in debug mode) and ``processes``: uvicorn's reloader and
          workers, which import the app by name in new processes, so the app must be an
          attribute of its module (or of the script); otherwise there is one process;
        - ``ssl_context``: a ``(certfile, keyfile)`` pair (not an ``ssl.SSLContext``);
        - ``threaded``, ``use_debugger``, ``extra_files``, ...: mapped where uvicorn has a
          counterpart, else named in one warning (docs/cli.md has the table).

        uvicorn's own keywords (``workers``, ``proxy_headers``, ...) go to ``uvicorn.run``.
        Under the ``microasgi`` command a call to ``run`` returns at once.
        """
        run_app(
            self,
            host,
            port,
            debug,
            load_dotenv,
            use_reloader=use_reloader,
            threaded=threaded,
            processes=processes,
            ssl_context=ssl_context,
            **options,
        )

    #: The class :meth:`test_client` makes (``None``: :class:`~microasgi.testing.TestClient`).
    test_client_class: type[TestClient] | None = None

    def openapi(self, root_path: str | None = None) -> dict[str, Any]:
        """The app's API spec: an OpenAPI 3.1 document of its routes (docs/api.md).

        Served at ``OPENAPI_URL``, with ``servers`` following each request's
        ``root_path``; here, a ``servers`` entry only when ``root_path`` is given.
        Raises :class:`microasgi.typed.OpenAPIError` when the routes cannot be
        documented (two models with one name, an unknown security scheme).
        """
        return build_openapi(self, root_path)

    #: The class :meth:`test_cli_runner` makes (``None``: :class:`~microasgi.testing.CliRunner`).
    test_cli_runner_class: type[CliRunner] | None = None

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> TestClient:
        """Flask's synchronous test client (see :mod:`microasgi.testing`): an instance of
        :attr:`test_client_class`, given the app and these arguments."""
        cls = self.test_client_class
        if cls is None:
            from .testing import TestClient

            cls = TestClient
        return cls(self, use_cookies=use_cookies, **kwargs)

    def async_test_client(self, use_cookies: bool = True, **kwargs: Any) -> AsyncTestClient:
        """An ``async`` test client for pytest-asyncio tests; ``async with`` runs lifespan."""
        from .testing import AsyncTestClient

        return AsyncTestClient(self, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: Any) -> CliRunner:
        """A click ``CliRunner`` that invokes this app's commands: an instance of
        :attr:`test_cli_runner_class`, given the app and these arguments."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import CliRunner

            cls = CliRunner
        return cls(self, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


#: Flask's name, so a port can be an import change.
Flask = MicroASGI


def _current_request() -> Request:
    ctx = _cv_app.get(None)
    request = ctx.request if ctx is not None else None
    if request is None:
        raise RuntimeError(_NO_REQUEST)
    return request


def _current_blueprints() -> Iterable[str]:
    """The current request's (or websocket's) blueprints, innermost first."""
    ctx = _cv_app.get(None)
    connection = (ctx.request or ctx.websocket) if ctx is not None else None
    return connection.blueprints if connection is not None else ()


async def _before(plan: RoutePlan, connection: Request | Websocket) -> Any:
    """Steps 4-5: the URL value preprocessors, then the ``before_request`` (or
    ``before_websocket``) hooks, app first; the first value a hook returns, which
    answers instead of the view."""
    endpoint, values = connection.endpoint, connection.view_args
    for preprocess, is_async in plan.preprocessors:
        if is_async:
            await preprocess(endpoint, values)
        else:  # on the loop, as url_defaults functions: they only move values
            preprocess(endpoint, values)
    for hook, is_async in plan.before:
        rv = await hook() if is_async else await run_in_request_thread(hook)
        if rv is not None:
            return rv
    return None
