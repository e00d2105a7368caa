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
9. ``teardown_request`` and ``teardown_appcontext`` hooks run, whatever happened.

Exceptions from 2-7 go to :meth:`MicroASGI.handle_user_exception` (error
handlers by code, then by class); anything still unhandled is logged and
answered with a bare 500 by :meth:`MicroASGI.handle_exception`: the one
error boundary.

What each route needs (which hooks apply, whether its view is async) is
worked out once, when the app starts serving, into a :class:`_Plan` kept on
the route's rule, so the per-request work is only what the request needs.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
import threading
import traceback
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, suppress
from datetime import timedelta
from itertools import chain
from types import CoroutineType
from typing import Any, TypeVar, cast

import anyio

from .blueprints import Blueprint
from .bridge import (
    release_request_slot,
    release_request_thread,
    run_in_request_thread,
    thread_limiter,
)
from .config import DEFAULT_CONFIG, Config, ConfigAttribute
from .ctx import AppContext, RequestContext, _AppCtxGlobals
from .exceptions import (
    HTTPException,
    InternalServerError,
    NotFound,
    RequestRedirect,
    SecurityError,
    coerce_http_exception,
)
from .globals import _cv_app, _cv_request
from .json import DefaultJSONProvider, JSONProvider
from .lifespan import run_lifespan
from .requests import (
    ClientDisconnected,
    Request,
    blueprint_chain,
    blueprint_lineage,
    host_is_trusted,
)
from .responses import _HTML, ASGIResponse, Response
from .routing import BuildError, Map, Rule
from .scaffold import F, Scaffold, get_root_path, is_async_callable, setupmethod
from .sessions import SecureCookieSessionInterface, SessionInterface
from .templating import template_location
from .typing import (
    ASGIApp,
    Receive,
    ResponseReturnValue,
    RouteCallable,
    Scope,
    Send,
)
from .websockets import Websocket, WebsocketDisconnect

T = TypeVar("T")

#: A websocket handler's error that no error handler answered (close with 1011).
_UNHANDLED: Any = object()

_Hook = tuple[Callable[..., Any], bool]  # (function, is_async)


def _make_timedelta(value: timedelta | int) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


def _hooks(funcs: Iterable[Callable[..., Any]]) -> tuple[_Hook, ...]:
    return tuple((f, is_async_callable(f)) for f in funcs)


def _call_with_kwargs(func: Callable[..., T], kwargs: dict[str, Any]) -> T:
    return func(**kwargs)


def _missing_view(endpoint: str) -> Callable[..., Any]:
    async def missing(**kwargs: Any) -> Any:
        raise LookupError(
            f"No view function is registered for endpoint {endpoint!r}. Pass view_func= to"
            f" add_url_rule(), or register one with @app.endpoint({endpoint!r})."
        )

    return missing


class _Plan:
    """What serving one route takes, worked out once: hooks that apply, how to call the view."""

    __slots__ = (
        "after",
        "before",
        "blueprints",
        "preload",
        "preprocessors",
        "teardown",
        "view",
        "view_kind",
    )

    # How to call the view: await it, run it in a thread, or call it directly
    # (a generator function: calling it only creates the generator).
    AWAIT, THREAD, DIRECT = 0, 1, 2

    def __init__(
        self,
        app: MicroASGI,
        rule: Rule | None,
        blueprints: tuple[str, ...] = (),
        websocket: bool = False,
    ) -> None:
        names = blueprint_chain(rule.endpoint) if rule is not None else blueprints
        websocket = rule.websocket if rule is not None else websocket
        self.blueprints = names
        scopes = (None, *reversed(names))  # app first, then outer to inner blueprints
        self.preprocessors = tuple(
            chain.from_iterable(app.url_value_preprocessors[s] for s in scopes)
        )
        before = app.before_websocket_funcs if websocket else app.before_request_funcs
        after = app.after_websocket_funcs if websocket else app.after_request_funcs
        self.before = _hooks(chain.from_iterable(before[s] for s in scopes))
        inner_first = (*names, None)
        self.after = _hooks(chain.from_iterable(reversed(after[s]) for s in inner_first))
        self.teardown = _hooks(
            chain.from_iterable(reversed(app.teardown_request_funcs[s]) for s in inner_first)
        )
        self.preload = rule is None or id(rule) not in app._stream_rules
        self.view: Callable[..., Any] | None = None
        self.view_kind = self.AWAIT
        if rule is not None:
            # A rule may exist only for building URLs (Flask allows it): answered 500.
            view = app.view_functions.get(rule.endpoint) or _missing_view(rule.endpoint)
            self.view = view
            if is_async_callable(view):
                self.view_kind = self.AWAIT
            elif inspect.isgeneratorfunction(view) or inspect.isasyncgenfunction(view):
                self.view_kind = self.DIRECT
            else:
                self.view_kind = self.THREAD


class MicroASGI(Scaffold):
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
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    app_ctx_globals_class: type[_AppCtxGlobals] = _AppCtxGlobals
    config_class: type[Config] = Config
    url_map_class: type[Map] = Map
    url_rule_class: type[Rule] = Rule
    session_interface: SessionInterface = SecureCookieSessionInterface()
    default_config: dict[str, Any] = DEFAULT_CONFIG

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute["str | bytes | None"]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute. A relative path was given."
            )
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.json: JSONProvider = self.json_provider_class(self)
        self.url_map = self.url_map_class()
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]] = []
        self.before_serving_funcs: list[Callable[[], Any]] = []
        self.after_serving_funcs: list[Callable[[], Any]] = []
        self.while_serving_gens: list[Callable[[], AsyncGenerator[None, None]]] = []
        self.url_build_error_handlers: list[Callable[[BuildError, str, dict[str, Any]], str]] = []
        self.shell_context_processors: list[Callable[[], dict[str, Any]]] = []
        self.extensions: dict[str, Any] = {}
        self.blueprints: dict[str, Blueprint] = {}
        #: The ASGI app ``__call__`` forwards to: wrap it with ASGI middleware.
        self.asgi_app: ASGIApp = self._asgi_app
        self._stream_rules: set[int] = set()  # ids of rules registered with stream=True
        self._got_first_request = False
        self._has_teardown = True
        self._started = False
        self._serving_gens: list[AsyncGenerator[None, None]] = []
        self._start_lock: anyio.Lock | None = None
        self._error_plans: dict[tuple[str | None, bool], _Plan] = {}
        self._mounts: list[tuple[str, ASGIApp]] = []
        #: url_prefix of each registered blueprint, by registration name.
        self._blueprint_prefixes: dict[str, str | None] = {}
        self._prefix_table: list[tuple[str, str]] = []
        self._logger: logging.Logger | None = None
        self._cli: Any = None
        self._jinja_env: Any = None
        self._jinja_lock = threading.Lock()
        #: Options for the Jinja2 environment, read when it is first created.
        self.jinja_options: dict[str, Any] = {}
        if self.has_static_folder:
            # Flask's static route; `static_url_path` defaults to "/static".
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                view_func=self.send_static_file,
            )

    # -- identity and configuration ----------------------------------------------

    @property
    def name(self) -> str:  # type: ignore[override]
        """The import name, or the script's name when run as ``__main__``."""
        if self.import_name == "__main__":
            filename = getattr(sys.modules["__main__"], "__file__", None)
            if not isinstance(filename, str):
                return "__main__"
            return os.path.splitext(os.path.basename(filename))[0]
        return self.import_name

    @property
    def debug(self) -> bool:
        """``DEBUG``: tracebacks in error pages, template reloading. Never in production."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value

    @property
    def propagate_exceptions(self) -> bool:
        """Whether unhandled errors are re-raised (to the test client) instead of answered 500.

        ``PROPAGATE_EXCEPTIONS`` if set, else ``TESTING``.
        """
        value = self.config["PROPAGATE_EXCEPTIONS"]
        return bool(value) if value is not None else self.testing

    def make_config(self, instance_relative: bool = False) -> Config:
        root = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = os.environ.get("MICROASGI_DEBUG", "").lower() in ("1", "true", "yes")
        return self.config_class(root, defaults)

    def auto_find_instance_path(self) -> str:
        """``<project folder>/instance``, or ``<prefix>/var/<name>-instance`` when installed."""
        module_dir = get_root_path(self.import_name)
        try:
            spec = importlib.util.find_spec(self.import_name)
        except (ImportError, ValueError):
            spec = None
        is_package = spec is not None and spec.submodule_search_locations is not None
        # A package's instance folder sits beside the package, a module's beside it.
        base = os.path.dirname(module_dir) if is_package else module_dir
        if "site-packages" in base.split(os.sep):
            return os.path.join(sys.prefix, "var", f"{self.name}-instance")
        return os.path.join(base, "instance")

    def open_resource(self, resource: str, mode: str = "rb", encoding: str | None = None) -> Any:
        """Open a file relative to the app's root path (read-only)."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding or "utf-8")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> Any:
        """Open a file relative to the instance folder (writing allowed)."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    @property
    def logger(self) -> logging.Logger:
        """The app's logger, named after the app; errors in requests are logged here."""
        if self._logger is None:
            logger = logging.getLogger(self.name)
            if self.debug and not logger.level:
                logger.setLevel(logging.DEBUG)
            if not _has_level_handler(logger):
                handler = logging.StreamHandler()
                handler.setFormatter(
                    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
                )
                logger.addHandler(handler)
            self._logger = logger
        return self._logger

    @property
    def cli(self) -> Any:
        """A click group: commands added here run with ``microasgi --app ... <name>``."""
        if self._cli is None:
            from .cli import AppGroup

            self._cli = AppGroup(self.name)
        return self._cli

    # -- templates -------------------------------------------------------------------

    @property
    def jinja_env(self) -> Any:
        """The app's Jinja2 environment, created on first use (so Jinja2 loads lazily)."""
        if self._jinja_env is None:
            # Two sync views rendering at once in worker threads must not each build one.
            with self._jinja_lock:
                if self._jinja_env is None:
                    self._jinja_env = self.create_jinja_environment()
        return self._jinja_env

    def create_jinja_environment(self) -> Any:
        """Build the Jinja2 environment (override to customise); see :mod:`microasgi.templating`."""
        from .templating import create_environment

        return create_environment(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape for ``.html``/``.htm``/``.xml``/``.xhtml`` and for template strings."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values (app's and current blueprints') to ``context``."""
        from .templating import update_template_context

        update_template_context(self, context)

    @setupmethod
    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 filter: ``@app.template_filter("reverse")``."""

        def decorator(f: F) -> F:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 test: ``@app.template_test("prime")``."""

        def decorator(f: F) -> F:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 global: ``@app.template_global()``."""

        def decorator(f: F) -> F:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        self.jinja_env.globals[name or f.__name__] = f

    # -- setup -------------------------------------------------------------------

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise RuntimeError(
                f"The setup method '{f_name}' can no longer be called on the application."
                " It has already handled its first request, any changes would not be"
                " applied consistently. Make sure all imports, decorators, functions,"
                " etc. needed to set up the application are done before running it."
            )

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register ``view_func`` for URL ``rule``; the method behind :meth:`route`.

        Options: ``methods`` (default ``["GET"]``), ``defaults``,
        ``strict_slashes``, ``websocket``, and ``stream=True`` to hand the view
        the request body unread (``request.stream``) instead of preloading it.
        """
        if endpoint is None:
            if view_func is None:
                raise TypeError("add_url_rule() needs an endpoint or a view_func.")
            endpoint = view_func.__name__
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                " @app.route(..., methods=['POST'])"
            )
        methods = {m.upper() for m in methods}
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            provide_automatic_options = (
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
        stream = bool(options.pop("stream", False))
        if options.get("websocket") and view_func is not None and not is_async_callable(view_func):
            raise TypeError(
                f"The websocket handler {view_func.__name__!r} must be async: define it with"
                " 'async def'."
            )
        url_rule = self.url_rule_class(
            rule, methods=methods, provide_automatic_options=provide_automatic_options, **options
        )
        if stream:
            self._stream_rules.add(id(url_rule))
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing is not view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint function:"
                    f" {endpoint}. Give the new view a different name or endpoint=."
                )
            self.view_functions[endpoint] = view_func
        self.url_map.add(url_rule)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Register a blueprint: ``url_prefix=``, ``name=`` (to register it twice),
        ``url_defaults=``, ``cli_group=`` override the blueprint's own settings."""
        blueprint.register(self, options)

    @setupmethod
    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Serve another ASGI app beneath ``prefix``: a Starlette or FastAPI app, another
        microasgi app, or a WSGI app behind :class:`WSGIApp`.

        Routes of this app win over a mount; a mount gets what no route matched
        under its prefix (``"/"`` mounts a fallback for everything). The child sees
        the whole path, with its ``root_path`` extended by ``prefix`` (ASGI 2.5),
        and its lifespan runs with this app's.
        """
        if not prefix.startswith("/"):
            raise ValueError(f"A mount prefix must start with '/': {prefix!r}.")
        prefix = prefix.rstrip("/")
        if any(existing == prefix for existing, _ in self._mounts):
            raise ValueError(f"An app is already mounted at {prefix or '/'!r}.")
        self._mounts.append((prefix, app))
        # Longest prefix first, so the innermost mount claims a path.
        self._mounts.sort(key=lambda item: len(item[0]), reverse=True)

    def add_middleware(self, middleware_class: type[Any], **options: Any) -> None:
        """Wrap :attr:`asgi_app` in an ASGI middleware: ``app.add_middleware(GZipMiddleware)``.

        The same as ``app.asgi_app = middleware_class(app.asgi_app, **options)``;
        the last one added runs first.
        """
        self.asgi_app = middleware_class(self.asgi_app, **options)

    def _find_mount(self, path: str) -> tuple[str, ASGIApp] | None:
        for prefix, app in self._mounts:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return prefix, app
        return None

    async def _call_mounted(
        self,
        mount: tuple[str, ASGIApp],
        request: Request,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        prefix, app = mount
        # Always the whole path, even from a server that stripped root_path itself.
        child = dict(scope)
        child["root_path"] = request.root_path + prefix
        child["path"] = request.root_path + request.path
        await self._run_child(app, child, receive, send)

    async def _run_child(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        # This app is current while a child runs, so the thread bridge (a mounted
        # WSGIApp's worker threads) is bounded by this app's SYNC_THREAD_LIMIT.
        token = _cv_app.set(AppContext(self))
        try:
            await app(scope, receive, send)
        finally:
            _cv_app.reset(token)

    def iter_blueprints(self) -> Iterator[Blueprint]:
        """Registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    @setupmethod
    def teardown_appcontext(self, f: F) -> F:
        """Run ``f(error)`` when each app context ends (after every request, too)."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def before_serving(self, f: F) -> F:
        """Run ``f()`` once when the server starts (lifespan startup), before any request."""
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: F) -> F:
        """Run ``f()`` once when the server shuts down (lifespan shutdown)."""
        self.after_serving_funcs.append(f)
        return f

    @setupmethod
    def while_serving(self, f: F) -> F:
        """Register an async generator function: code before ``yield`` runs at startup,
        after it at shutdown.

        ::

            @app.while_serving
            async def database():
                app.db = await connect()
                yield
                await app.db.close()
        """
        if not inspect.isasyncgenfunction(f):
            raise TypeError(
                "while_serving needs an async generator function (async def with yield)."
            )
        self.while_serving_gens.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: F) -> F:
        """Register a function returning names for ``microasgi shell``."""
        self.shell_context_processors.append(f)
        return f

    # -- contexts ----------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An application context: ``with app.app_context(): ...`` (or ``async with``)."""
        return AppContext(self)

    def request_context(self, scope: Scope, body: bytes = b"") -> RequestContext:
        """A request context for an ASGI ``scope`` whose body is ``body``."""
        request = self.request_class(scope)
        request._data = body
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            _parse_form_now(self, request)
        return RequestContext(self, request, AppContext(self))

    def test_request_context(self, *args: Any, **kwargs: Any) -> RequestContext:
        """A request context for a made-up request, taking the test client's arguments.

        ``with app.test_request_context("/?page=2", method="POST", json={...}):``
        """
        from .testing import build_scope

        scope, body = build_scope(self, *args, **kwargs)
        return self.request_context(scope, body)

    def _thread_limiter(self) -> anyio.CapacityLimiter:
        return thread_limiter(id(self), int(self.config["SYNC_THREAD_LIMIT"]))

    # -- ASGI entry point -------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI interface; forwards to :attr:`asgi_app` (so middleware can wrap it)."""
        await self.asgi_app(scope, receive, send)

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
        trusted = self.config["TRUSTED_HOSTS"]
        try:
            if trusted and not host_is_trusted(request.headers.get("host", ""), trusted):
                # Refused before anything is built from it (url_for(_external=True)).
                raise SecurityError("The Host header is not trusted.")
            rule, request.view_args = self.url_map.match(request.path, request.method)
        except HTTPException as exc:
            # Routes first, then mounted apps: a mount only sees paths no route has.
            mount = self._find_mount(request.path) if self._mounts else None
            if mount is not None and type(exc) is NotFound:
                await self._call_mounted(mount, request, scope, receive, send)
                return
            plan = self._routing_error(request, exc)
        else:
            request.url_rule = rule
            plan = rule.plan
        app_ctx = AppContext(self)
        ctx = RequestContext(self, request, app_ctx)
        app_token = _cv_app.set(app_ctx)
        req_token = _cv_request.set(ctx)
        error: BaseException | None = None
        preserved = False
        try:
            try:
                response = await self.full_dispatch_request(ctx, plan)
            except ClientDisconnected:
                return  # nobody left to answer
            except Exception as exc:
                error = exc
                response = await self.handle_exception(ctx, exc)
            try:
                await response(scope, receive, send)
            except Exception as exc:
                # Headers are already out (a streamed body failed): nothing more
                # can be said to the client, but the error must be seen.
                error = exc
                if self.propagate_exceptions:
                    raise
                self.log_exception(exc, request)
            preserve = scope.get("extensions", {}).get("microasgi.preserve_context")
            if preserve is not None:
                preserve(ctx, error)
                preserved = True
                release_request_slot(ctx)
        finally:
            if not preserved:
                try:
                    if self._has_teardown:
                        await self._teardown(ctx, error)
                    else:
                        request.close()
                finally:
                    release_request_thread(ctx)
            _cv_request.reset(req_token)
            _cv_app.reset(app_token)

    async def _handle_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket path: match, contexts, before_websocket hooks, handler, close."""
        if not self._got_first_request:
            await self._first_request()
        ws = Websocket(scope, receive, send)
        try:
            rule, ws.view_args = self.url_map.match(ws.path, "GET", websocket=True)
        except HTTPException as exc:
            mount = self._find_mount(ws.path) if self._mounts else None
            if mount is not None and isinstance(exc, NotFound):
                child = dict(scope, root_path=ws.root_path + mount[0], path=ws.root_path + ws.path)
                await self._run_child(mount[1], child, receive, send)
                return
            ws.routing_exception = exc
            plan = self._error_plan(ws.path, websocket=True)
            ws._blueprints = plan.blueprints
        else:
            ws.url_rule = rule
            plan = rule.plan
        app_ctx = AppContext(self)
        ctx = RequestContext(self, None, app_ctx, websocket=ws)
        app_token = _cv_app.set(app_ctx)
        req_token = _cv_request.set(ctx)
        error: BaseException | None = None
        try:
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
                await self.do_teardown_appcontext(error)
            finally:
                release_request_thread(ctx)
                _cv_request.reset(req_token)
                _cv_app.reset(app_token)

    async def _dispatch_websocket(self, ws: Websocket, plan: _Plan) -> Any:
        if ws.routing_exception is not None:
            raise ws.routing_exception
        for preprocess in plan.preprocessors:
            preprocess(ws.endpoint, ws.view_args)
        for hook, is_async in plan.before:
            rv = await hook() if is_async else await run_in_request_thread(hook)
            if rv is not None:
                return rv
        assert plan.view is not None
        return await plan.view(**(ws.view_args or {}))

    async def _handle_websocket_error(self, ws: Websocket, exc: Exception) -> Any:
        """An error handler's answer to ``exc``, or the HTTP error; unhandled ones are logged.

        Before the handshake is accepted, the answer refuses it; afterwards the
        socket closes (1011 for an unhandled error).
        """
        http_exc = coerce_http_exception(exc)
        target = http_exc if http_exc is not None else exc
        handler = self._find_error_handler(target, ws.blueprints)
        if handler is not None:
            try:
                return await self._call(handler, target)
            except Exception as handler_exc:
                exc = handler_exc
                http_exc = None
        if http_exc is not None:
            return http_exc.get_response()
        if self.propagate_exceptions and not ws.accepted:
            raise exc
        self.log_exception(exc, ws)
        if ws.accepted:
            return _UNHANDLED
        return InternalServerError().get_response()

    async def _teardown(self, ctx: RequestContext, error: BaseException | None) -> None:
        try:
            await self.do_teardown_request(ctx.request.blueprints if ctx.request else (), error)
            await self.do_teardown_appcontext(error)
        finally:
            if ctx.request is not None:
                ctx.request.close()

    # -- dispatch ----------------------------------------------------------------

    def _routing_error(self, request: Request, exc: HTTPException) -> _Plan:
        """Keep a 404/405/redirect to raise after the hooks; the plan that answers it."""
        if isinstance(exc, RequestRedirect):
            # The router knows the path only; the client needs the whole URL.
            query = request.query_string.decode("latin-1")
            exc.new_url = request.root_path + exc.new_url + (f"?{query}" if query else "")
        request.routing_exception = exc
        plan = self._error_plan(request.path)
        request._blueprints = plan.blueprints
        return plan

    async def full_dispatch_request(self, ctx: RequestContext, plan: _Plan) -> Response:
        """Preload, hooks, view, response, after-hooks: steps 3 to 7."""
        request = ctx.request
        assert request is not None
        try:
            config = self.config
            if plan.preload:
                await request._load_body(config["MAX_CONTENT_LENGTH"], config["BODY_MEMORY_LIMIT"])
            else:
                request._open_stream(config["MAX_CONTENT_LENGTH"])
            rv = None
            for preprocess in plan.preprocessors:
                preprocess(request.endpoint, request.view_args)
            for hook, is_async in plan.before:
                rv = await hook() if is_async else await run_in_request_thread(hook)
                if rv is not None:
                    break
            else:
                rv = await self.dispatch_request(request, plan)
        except ClientDisconnected:
            raise
        except Exception as exc:
            rv = await self.handle_user_exception(ctx, exc)
        response = self.make_response(rv)
        return await self.process_response(ctx, response, plan)

    async def dispatch_request(self, request: Request, plan: _Plan) -> Any:
        """Call the view (or answer OPTIONS, or raise the routing error)."""
        if request.routing_exception is not None:
            raise request.routing_exception
        rule = request.url_rule
        assert rule is not None
        if rule.provide_automatic_options and request.method == "OPTIONS":
            return self.make_default_options_response()
        view = plan.view
        assert view is not None
        args = request.view_args
        kind = plan.view_kind
        if kind == _Plan.AWAIT:
            return await (view(**args) if args else view())
        if kind == _Plan.THREAD:
            rv = await (
                run_in_request_thread(_call_with_kwargs, view, args)
                if args
                else run_in_request_thread(view)
            )
        else:
            rv = view(**args) if args else view()
        if isinstance(rv, CoroutineType):
            # A sync decorator (login_required, say) around an async view.
            return await rv
        return rv

    def make_default_options_response(self) -> Response:
        """The answer to an automatic OPTIONS request: empty, with ``Allow``."""
        request = _cv_request.get().request
        assert request is not None
        methods = self.url_map.allowed_methods(request.path)
        response = self.response_class()
        response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    async def process_response(
        self, ctx: RequestContext, response: Response, plan: _Plan
    ) -> Response:
        """Run ``after_this_request`` and ``after_request`` hooks, then save the session."""
        for func in ctx._after_request_functions:
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
        if is_async_callable(func):
            return await func(*args)
        rv = await run_in_request_thread(func, *args)
        return await rv if isinstance(rv, CoroutineType) else rv

    async def _first_request(self) -> None:
        """Freeze setup and plan every route; run ``before_serving`` if no lifespan did."""
        if self._start_lock is None:
            self._start_lock = anyio.Lock()
        async with self._start_lock:
            if self._got_first_request:
                return
            for rule in self.url_map.iter_rules():
                rule.plan = _Plan(self, rule)
            self._error_plans.clear()
            # Longest prefix first, so the innermost blueprint claims a path.
            prefixes = [
                (prefix.rstrip("/") or "/", name)
                for name, prefix in self._blueprint_prefixes.items()
                if prefix
            ]
            self._prefix_table = sorted(prefixes, key=lambda item: len(item[0]), reverse=True)
            self._has_teardown = bool(self.teardown_appcontext_funcs) or any(
                self.teardown_request_funcs.values()
            )
            if not self._started:
                # Embedded in another stack, no lifespan reaches us: start now.
                await self.startup()
            self._got_first_request = True

    # -- return values -------------------------------------------------------------

    def make_response(self, rv: ResponseReturnValue | Any) -> Response:
        """Turn a view's return value into a :class:`Response`.

        ``str`` (HTML), ``bytes``, ``dict``/``list`` (JSON), a :class:`Response`,
        a sync or async generator (streamed), any ASGI app (a Starlette
        response), or a tuple ``(body, status)``, ``(body, headers)`` or
        ``(body, status, headers)``.
        """
        kind = rv.__class__
        if kind is str:  # the common cases first, without the general checks
            return self.response_class._ready(cast(str, rv).encode(), _HTML)
        if kind is dict:
            return cast(Response, self.json.response(rv))
        if kind is self.response_class:
            return cast(Response, rv)
        status = headers = None
        if isinstance(rv, tuple):
            length = len(rv)
            if length == 3:
                rv, status, headers = rv
            elif length == 2:
                if isinstance(rv[1], dict | tuple | list) or hasattr(rv[1], "raw"):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple"
                    " must have the form (body, status, headers), (body, status), or"
                    " (body, headers)."
                )
        if rv is None:
            request = _cv_request.get(None)
            endpoint = request.request.endpoint if request and request.request else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The"
                " function either returned None or ended without a return statement."
            )
        response: Response
        if isinstance(rv, Response):
            response = rv
        elif isinstance(rv, str | bytes | bytearray):
            response = self.response_class(rv, status, headers)
            status = headers = None
        elif isinstance(rv, dict | list):
            response = self.json.response(rv)
        elif isinstance(rv, Iterator) or hasattr(rv, "__aiter__"):
            response = self.response_class(rv, status, headers)
            status = headers = None
        elif isinstance(rv, HTTPException):
            response = rv.get_response()
        elif callable(rv):
            response = ASGIResponse(cast(ASGIApp, rv))
        else:
            raise TypeError(
                "The view function did not return a valid response. The return type"
                f" must be a string, dict, list, tuple with headers or status,"
                f" Response instance, generator, or ASGI callable, but it was a"
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

    async def handle_user_exception(self, ctx: RequestContext, exc: Exception) -> Any:
        """Answer ``exc`` with its error handler, or as an HTTP error; re-raise the rest."""
        http_exc = coerce_http_exception(exc)
        blueprints = ctx.request.blueprints if ctx.request is not None else ()
        if http_exc is not None:
            if isinstance(http_exc, RequestRedirect):
                return http_exc.get_response()
            handler = self._find_error_handler(http_exc, blueprints)
            if handler is None:
                return http_exc.get_response()
            return await self._call(handler, http_exc)
        handler = self._find_error_handler(exc, blueprints)
        if handler is None:
            raise exc
        return await self._call(handler, exc)

    async def handle_exception(self, ctx: RequestContext, exc: Exception) -> Response:
        """The error boundary: log ``exc`` and answer 500 (its handler's, or a bare one)."""
        if self.propagate_exceptions:
            raise exc
        self.log_exception(exc, ctx.request)
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
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            response = self.response_class(text, 500, mimetype="text/plain")
        if response is None:
            response = server_error.get_response()
        try:
            # As in Flask, after_request hooks see the error response too.
            return await self.process_response(ctx, response, self._plan_for(ctx.request))
        except Exception as hook_exc:
            self.logger.error(
                "An after_request hook failed on the 500 response.", exc_info=hook_exc
            )
            return response

    def _plan_for(self, request: Request | None) -> _Plan:
        rule = request.url_rule if request is not None else None
        if rule is not None and rule.plan is not None:
            return rule.plan  # type: ignore[no-any-return]
        return self._error_plan(request.path if request is not None else "/")

    def _error_plan(self, path: str, websocket: bool = False) -> _Plan:
        """The plan for a 404/405 at ``path``: the innermost blueprint whose prefix holds it."""
        name = None
        for prefix, candidate in self._prefix_table:
            if path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/"):
                name = candidate
                break
        plan = self._error_plans.get((name, websocket))
        if plan is None:
            lineage = blueprint_lineage(name) if name else ()
            plan = self._error_plans[(name, websocket)] = _Plan(self, None, lineage, websocket)
        return plan

    def log_exception(self, exc: BaseException, request: Request | Websocket | None) -> None:
        """Log an unhandled exception with its traceback (override to change)."""
        where = f"{request.path} [{request.method}]" if request is not None else "?"
        location = template_location(exc)
        if location is not None:
            where = f"{where} in {location}"
        self.logger.error("Exception on %s", where, exc_info=(type(exc), exc, exc.__traceback__))

    # -- teardown ----------------------------------------------------------------

    def _teardown_funcs_for(self, blueprints: Iterable[str]) -> Iterator[Callable[..., Any]]:
        for name in chain(blueprints, (None,)):
            yield from reversed(self.teardown_request_funcs[name])

    async def do_teardown_request(
        self, blueprints: Iterable[str], exc: BaseException | None = None
    ) -> None:
        """Run ``teardown_request`` hooks (inner blueprints first, then the app's).

        Every hook runs even if one raises; such errors are logged.
        """
        for func in self._teardown_funcs_for(blueprints):
            try:
                await self._call(func, exc)
            except Exception as hook_exc:
                self.logger.error("Error in teardown_request hook %r", func, exc_info=hook_exc)

    async def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run ``teardown_appcontext`` hooks, last registered first."""
        for func in reversed(self.teardown_appcontext_funcs):
            try:
                await self._call(func, exc)
            except Exception as hook_exc:
                self.logger.error("Error in teardown_appcontext hook %r", func, exc_info=hook_exc)

    # -- URLs ----------------------------------------------------------------------

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Let ``url_defaults`` functions fill in ``values`` for ``endpoint``."""
        for name in (None, *reversed(blueprint_chain(endpoint))):
            for func in self.url_default_functions[name]:
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, Any]
    ) -> str:
        """Give ``url_build_error_handlers`` a chance to build the URL, else re-raise."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as exc:
                error = exc
                continue
            if rv is not None:
                return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

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
        prefix the app is mounted at; ``_external=True`` adds scheme and host.
        Outside a request, ``SERVER_NAME`` is needed, and URLs are external.
        ``.name`` is relative to the current blueprint.
        """
        ctx = _cv_request.get(None)
        request = ctx.request if ctx is not None else None
        if request is not None:
            if endpoint.startswith("."):
                blueprint = request.blueprint
                endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
            root = request.root_path
            scheme = _scheme or request.scheme
            host = request.host
            if _external is None:
                _external = _scheme is not None
        else:
            if endpoint.startswith("."):
                endpoint = endpoint[1:]
            host = self.config["SERVER_NAME"]
            if host is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME'"
                    " configured. Also configure 'APPLICATION_ROOT' and"
                    " 'PREFERRED_URL_SCHEME' as needed."
                )
            root = self.config["APPLICATION_ROOT"].rstrip("/")
            scheme = _scheme or self.config["PREFERRED_URL_SCHEME"]
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            path = self.url_map.build(endpoint, values, method=_method)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        url = root + path
        if _anchor is not None:
            from urllib.parse import quote

            url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        if _external:
            url = f"{scheme}://{host}{url}"
        return url

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

    async def shutdown(self) -> None:
        """Finish ``while_serving`` generators (last first), then run ``after_serving``."""
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
        **options: Any,
    ) -> None:
        """Serve with uvicorn (development; use ``microasgi run`` or uvicorn itself in production).

        Defaults: ``127.0.0.1:5000``, as Flask. Other keyword arguments go to ``uvicorn.run``.
        """
        import uvicorn

        if debug is not None:
            self.debug = debug
        options.setdefault("log_level", "debug" if self.debug else "info")
        uvicorn.run(self, host=host or "127.0.0.1", port=port or 5000, **options)

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> Any:
        """A Flask-style synchronous test client (see :mod:`microasgi.testing`)."""
        from .testing import TestClient

        return TestClient(self, use_cookies=use_cookies, **kwargs)

    def async_test_client(self, use_cookies: bool = True, **kwargs: Any) -> Any:
        """An ``async`` test client for pytest-asyncio tests; ``async with`` runs lifespan."""
        from .testing import AsyncTestClient

        return AsyncTestClient(self, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: Any) -> Any:
        """A click ``CliRunner`` that invokes this app's commands."""
        from .testing import CliRunner

        return CliRunner(self, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _parse_form_now(app: MicroASGI, request: Request) -> None:
    """Parse a form body outside the event loop (for ``test_request_context``)."""

    async def parse() -> None:
        token = _cv_app.set(AppContext(app))
        try:
            await request._parse_form()
        finally:
            _cv_app.reset(token)

    anyio.run(parse)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler on ``logger`` or its parents will emit its messages."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


#: Flask's name, so a port can be an import change.
Flask = MicroASGI
