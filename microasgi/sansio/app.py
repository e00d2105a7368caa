"""What an app is before it serves: configuration, the registration API, URL defaults.

:class:`App` holds everything that is set up before the first request (config,
routes, blueprints, mounts, hooks, template filters); :class:`microasgi.MicroASGI`
adds contexts, ``url_for`` and serving on top. Flask splits its ``App`` the same way.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
import threading
import warnings
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from werkzeug.sansio.response import Response as SansIOResponse

from ..config import DEFAULT_CONFIG, Config, ConfigAttribute
from ..exceptions import HTTPException
from ..json.provider import DefaultJSONProvider, JSONProvider
from ..logging import create_logger
from ..routing import BuildError, Map, MapAdapter, Rule
from ..routing.map import strip_default_port, subdomain_of
from ..typed import ProblemFormatter, TypedRoute, compile_view
from ..typing import ASGIApp, RouteCallable, Scope
from .blueprints import Blueprint, blueprint_chain, check_blueprint
from .scaffold import (
    F,
    HookList,
    Scaffold,
    get_root_path,
    is_async_callable,
    registering,
    setupmethod,
)

if TYPE_CHECKING:
    from jinja2 import Environment

T = TypeVar("T")


class URLParts(Protocol):
    """What URL matching and building read of a request (or a websocket)."""

    @property
    def scheme(self) -> str:
        """``http``, ``https``, ``ws`` or ``wss``."""

    @property
    def host(self) -> str:
        """The host and port it was sent to (without the scheme's default port)."""

    @property
    def root_path(self) -> str:
        """The prefix the app is mounted at."""

    @property
    def path(self) -> str:
        """The path below :attr:`root_path`."""

    @property
    def method(self) -> str:
        """The HTTP method."""

    @property
    def query_string(self) -> bytes:
        """The raw query string."""

    @property
    def scope(self) -> Scope:
        """The ASGI scope."""


def _host_of(connection: URLParts) -> str:
    """``connection.host``, read from the raw ``Host`` header when there is one.

    The app checked that header before matching (one, and well formed), and
    ``request.host`` would first build all the request's headers: several
    microseconds, for a route lookup that costs one.
    """
    for name, value in connection.scope["headers"]:
        if name == b"host" and value:
            host: str = value.decode("latin-1")
            return host.removesuffix(":443" if connection.scheme in ("https", "wss") else ":80")
    return connection.host


def _make_timedelta(value: timedelta | int) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


#: add_url_rule options that only the API spec reads (microasgi.typed.openapi).
_DOC_OPTIONS = ("security", "tags", "include_in_schema")


class App(Scaffold):
    """What an app is before it serves: configuration, the registration API, URL building.

    :class:`microasgi.MicroASGI` serves it. As Flask's ``sansio.App``: no I/O,
    no event loop, no thread, no context local here.
    """

    #: The ASGI app ``__call__`` forwards to: wrap it with ASGI middleware.
    asgi_app: ASGIApp

    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    #: Writes (and describes) the errors of typed views: RFC 9457 problem details by
    #: default; ``microasgi.typed.FastAPIFormatter()`` gives FastAPI's shape.
    problem_formatter: ProblemFormatter = ProblemFormatter()
    config_class: type[Config] = Config
    url_map_class: type[Map] = Map
    url_rule_class: type[Rule] = Rule
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
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        if self.has_static_folder and bool(static_host) != host_matching:
            # Flask's check, and its exception: with host matching the static
            # route needs a host of its own, and without it cannot have one.
            raise AssertionError(
                "Invalid static_host/host_matching combination: pass static_host= exactly"
                " when host_matching=True (or static_folder=None)."
            )
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]] = HookList(
            self._hooks_changed
        )
        self.before_serving_funcs: list[Callable[[], Any]] = []
        self.after_serving_funcs: list[Callable[[], Any]] = []
        self.while_serving_gens: list[Callable[[], AsyncGenerator[None, None]]] = []
        self.url_build_error_handlers: list[
            Callable[[BuildError, str, dict[str, Any]], str | None]
        ] = []
        self.shell_context_processors: list[Callable[[], dict[str, Any]]] = []
        self.extensions: dict[str, Any] = {}
        self.blueprints: dict[str, Blueprint] = {}
        self._stream_rules: set[int] = set()  # ids of rules registered with stream=True
        #: Typed views compiled at registration, by id of their rule (microasgi.typed).
        self._typed_routes: dict[int, TypedRoute] = {}
        #: A route's options for the API spec (security, tags, include_in_schema), by id.
        self._route_docs: dict[int, dict[str, Any]] = {}
        #: The API spec's security schemes, by name (OpenAPI's Security Scheme objects).
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self._got_first_request = False
        self._mounts: list[tuple[str, ASGIApp]] = []
        #: url_prefix of each registered blueprint, by registration name.
        self._blueprint_prefixes: dict[str, str | None] = {}
        self._logger: logging.Logger | None = None
        self._jinja_env: Environment | None = None
        self._jinja_lock = threading.Lock()
        #: Options for the Jinja2 environment, read when it is first created.
        self.jinja_options: dict[str, Any] = {}

    # -- what the serving layer provides ------------------------------------------
    # Declared here so that the helpers below app.py (contexts, sessions, templates,
    # the bridge) are typed against App, not against the serving class.

    session_interface: Any
    _workers: Any  # the bridge's WorkerPool
    response_class: type[SansIOResponse]
    request_class: type[Any]
    app_ctx_globals_class: type[Any]

    def make_response(self, rv: Any) -> SansIOResponse:
        """A response for a view's return value (the serving layer's)."""
        raise NotImplementedError

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The URL of ``endpoint`` (the serving layer's: it reads the current request)."""
        raise NotImplementedError

    def app_context(self) -> AbstractContextManager[Any]:
        """A new app context (the serving layer's)."""
        raise NotImplementedError

    def test_request_context(self, *args: Any, **kwargs: Any) -> AbstractContextManager[Any]:
        """A request context for a made-up request (the serving layer's)."""
        raise NotImplementedError

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values to ``context`` (the serving layer's)."""
        raise NotImplementedError

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_request`` hooks (the serving layer's)."""
        raise NotImplementedError

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_appcontext`` hooks (the serving layer's)."""
        raise NotImplementedError

    async def _end_request(self, ctx: Any, error: BaseException | None) -> None:
        raise NotImplementedError

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func``, made callable from sync code if it is async (the serving layer's)."""
        raise NotImplementedError

    def _thread_limiter(self) -> Any:
        raise NotImplementedError

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
        """A ``config_class`` of ``default_config`` at the root path (instance path if asked).

        ``DEBUG`` comes from the ``MICROASGI_DEBUG`` environment variable, else Flask's
        ``FLASK_DEBUG`` (as ``microasgi.devserver.get_debug_flag`` reads them).
        """
        root = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        flag = os.environ.get("MICROASGI_DEBUG") or os.environ.get("FLASK_DEBUG") or ""
        defaults["DEBUG"] = flag.lower() in ("1", "true", "yes", "on")
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

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> IO[Any]:
        """Open a file relative to the app's root path (read-only)."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding or "utf-8")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> IO[Any]:
        """Open a file relative to the instance folder (writing allowed)."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    @property
    def logger(self) -> logging.Logger:
        """The app's logger, named after the app; errors in requests are logged here."""
        if self._logger is None:
            # Flask's setup, and its default_handler: `app.logger.removeHandler(default_handler)`.
            self._logger = create_logger(self)
        return self._logger

    # -- templates -------------------------------------------------------------------

    @property
    def jinja_env(self) -> Environment:
        """The app's Jinja2 environment, created on first use (so Jinja2 loads lazily)."""
        if self._jinja_env is None:
            # Two sync views rendering at once in worker threads must not each build one.
            with self._jinja_lock:
                if self._jinja_env is None:
                    self._jinja_env = self.create_jinja_environment()
        return self._jinja_env

    def create_jinja_environment(self) -> Environment:
        """Build the Jinja2 environment (the serving layer does; override to customise)."""
        raise NotImplementedError

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape for ``.html``/``.htm``/``.xml``/``.xhtml`` and for template strings."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    @setupmethod
    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 filter: ``@app.template_filter("reverse")``."""
        return registering(self.add_template_filter, name)

    @setupmethod
    def add_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as a Jinja2 filter, named ``name`` or after the function."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 test: ``@app.template_test("prime")``."""
        return registering(self.add_template_test, name)

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register ``f`` as a Jinja2 test, named ``name`` or after the function."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Register a Jinja2 global: ``@app.template_global()``."""
        return registering(self.add_template_global, name)

    @setupmethod
    def add_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as a Jinja2 global, named ``name`` or after the function."""
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
        ``strict_slashes``, ``websocket``, ``subdomain`` (with
        ``subdomain_matching``) or ``host`` (with ``host_matching``), and
        ``stream=True`` to hand the view the request body unread
        (``request.stream``) instead of preloading it. For typed views (docs/api.md):
        ``status_code`` (the default status), ``responses`` (``{404: Problem}``, for
        the API spec) and ``response_validation`` (``"trust"``, ``"always"``, ``"off"``).
        For the API spec of any view: ``security``, ``tags`` and ``include_in_schema``.
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
        # Methods a view class always wants (Flask's view attribute).
        methods.update(m.upper() for m in getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            provide_automatic_options = (
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
        stream = bool(options.pop("stream", False))
        typed_options = {
            key: options.pop(key, None)
            for key in ("status_code", "responses", "response_validation")
        }
        docs = {key: options.pop(key) for key in _DOC_OPTIONS if key in options}
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
        if docs:
            self._route_docs[id(url_rule)] = docs
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            # Equal is enough (Flask compares with !=): one bound method, taken twice
            # from its object, is two objects that compare equal.
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint function:"
                    f" {endpoint}. Give the new view a different name or endpoint=."
                )
            self.view_functions[endpoint] = view_func
        self.url_map.add(url_rule)
        if view_func is not None and not url_rule.websocket:
            # Defaults and host or subdomain variables (known once the rule is
            # in the map) are view arguments too.
            converters: dict[str, Any] = dict.fromkeys(url_rule.arguments)
            converters.update(
                (name, self.url_map.converters.get(converter))
                for name, converter in url_rule.variable_converters()
            )
            typed = compile_view(view_func, converters, **typed_options)
            if typed is not None:
                self._typed_routes[id(url_rule)] = typed

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Register a blueprint: ``url_prefix=``, ``subdomain=``, ``name=`` (to register it
        twice), ``url_defaults=``, ``cli_group=`` override the blueprint's own settings."""
        check_blueprint(blueprint)
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

    # -- URLs ----------------------------------------------------------------------

    @property
    def subdomain_matching(self) -> bool:
        """Whether rules match on the subdomain of ``SERVER_NAME`` a request is for.

        Flask's ``subdomain_matching`` (a constructor argument, also settable
        before the first request). Without it, rules of the default subdomain
        answer requests to any host, and ``subdomain=`` only builds URLs.
        """
        return self._subdomain_matching

    @subdomain_matching.setter
    def subdomain_matching(self, value: bool) -> None:
        self._subdomain_matching = value
        # The request path reads the Host only when this is set: one flag, checked once.
        self._routes_by_host = value or self.url_map.host_matching

    def create_url_adapter(self, request: URLParts | None) -> MapAdapter | None:
        """The URL map bound to ``request``'s URL, or outside a request to ``SERVER_NAME``.

        As Flask's: within a request the server name is ``SERVER_NAME`` if set
        (else the request's host) and the subdomain is the request's (with
        ``subdomain_matching``; else the default one); with ``host_matching``
        it is the request's host. Outside a request, the URL is ``SERVER_NAME``,
        ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME``; None without ``SERVER_NAME``.
        """
        config = self.config
        if request is None:
            if config["SERVER_NAME"] is None:
                return None
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        scheme = request.scheme
        host = _host_of(request)
        server_name = config["SERVER_NAME"]
        if self.url_map.host_matching:
            server_name = host.lower()  # what rules' hosts are compared with
        elif server_name is None:
            server_name = host  # as sent: external URLs keep its case
        else:
            server_name = strip_default_port(server_name.lower(), scheme)
        return MapAdapter(
            self.url_map,
            server_name,
            request.root_path,
            None if self.url_map.host_matching else self._url_domain(host.lower(), scheme),
            scheme,
            request.path,
            request.method,
            request.query_string.decode("latin-1"),
        )

    def _url_domain(self, host: str, scheme: str) -> str:
        """The domain rules match a request to ``host`` on: the host itself under
        host matching, else its subdomain of ``SERVER_NAME``.

        As Werkzeug's ``bind_to_environ``: a host not under ``SERVER_NAME`` (an
        IP address, another name) warns and is the subdomain ``"<invalid>"``,
        which only rules with a variable subdomain (``<user>``) match.
        """
        if self.url_map.host_matching:
            return host
        if not self._subdomain_matching:
            return self.url_map.default_subdomain
        server_name = self.config["SERVER_NAME"]
        if server_name is None:
            return ""
        server_name = strip_default_port(server_name.lower(), scheme)
        subdomain = subdomain_of(host, server_name)
        if subdomain is None:
            warnings.warn(
                f"Current server name {host!r} doesn't match configured server name"
                f" {server_name!r}",
                stacklevel=2,
            )
            return "<invalid>"
        return subdomain

    def _find_on_host(
        self, connection: URLParts, websocket: bool
    ) -> tuple[Rule, dict[str, Any]] | HTTPException:
        """``url_map.find`` for an app whose rules match on the host too."""
        domain = self._url_domain(_host_of(connection).lower(), connection.scheme)
        return self.url_map.find_on_domain(domain, connection.path, connection.method, websocket)

    def _allowed_methods(self, connection: URLParts) -> set[str]:
        """The methods of the rules matching the request's URL: automatic OPTIONS' ``Allow``."""
        if not self._routes_by_host:
            return self.url_map.allowed_methods(connection.path)
        domain = self._url_domain(_host_of(connection).lower(), connection.scheme)
        return self.url_map.allowed_methods(connection.path, domain)

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
