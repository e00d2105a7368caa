"""What an app and a blueprint share: the registration API for views and hooks.

Every decorator is sugar over an explicit method (``route`` over
``add_url_rule``, ``errorhandler`` over ``register_error_handler``). Hooks are
stored per *scope*: ``None`` for the app, a blueprint's dotted name for the
blueprint, exactly as Flask's ``before_request_funcs`` and friends, which
extensions read and write directly.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from werkzeug.sansio.response import Response as SansIOResponse

from ..exceptions import HTTPException, default_exceptions
from ..typing import (
    AfterRequestCallable,
    ErrorHandlerCallable,
    RouteCallable,
    TeardownCallable,
    URLDefaultCallable,
    URLValuePreprocessor,
)

if TYPE_CHECKING:
    from jinja2 import FileSystemLoader

    from ..typed.openapi import SecurityRequirements

F = TypeVar("F", bound=Callable[..., Any])
Scope = str | None
ErrorHandlerSpec = dict[Scope, dict[int | None, dict[type[BaseException], ErrorHandlerCallable]]]


def setupmethod(f: F) -> F:
    """Mark a method that may only be called while the app is being set up."""
    name = f.__name__

    @functools.wraps(f)
    def wrapper(self: Scaffold, *args: Any, **kwargs: Any) -> Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def registering(add: Callable[..., Any], name: str | None) -> Callable[[F], F]:
    """The decorator form of ``add(f, name=name)``: ``@app.template_filter("reverse")``."""

    def decorator(f: F) -> F:
        add(f, name=name)
        return f

    return decorator


def is_async_callable(func: Any) -> bool:
    """Whether calling ``func`` gives a coroutine (also for async ``__call__``)."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - a callable object's method
    )


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name`` (the cwd if unknown)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin in (None, "namespace", "built-in"):
            return os.getcwd()
        filename = spec.origin
    return os.path.dirname(os.path.abspath(filename))


class HookList(list):  # type: ignore[type-arg]
    """A list of hooks that calls ``changed()`` whenever it changes.

    Flask code appends to ``app.after_request_funcs[None]`` and the like
    directly, even while serving (Flask-Caching does, from a view); the app's
    route plans, made once, must hear of it.
    """

    __slots__ = ("_changed",)

    def __init__(self, changed: Callable[[], None], items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._changed = changed


def _notifying(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    @functools.wraps(method)
    def call(self: HookList, *args: Any) -> Any:
        result = method(self, *args)
        self._changed()
        return result

    return call


for _name in (
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "clear",
    "sort",
    "reverse",
    "__setitem__",
    "__delitem__",
    "__iadd__",
):
    setattr(HookList, _name, _notifying(_name))


class HookRegistry(dict):  # type: ignore[type-arg]
    """Hooks by scope (``None``: the app; else a blueprint's name), each a :class:`HookList`.

    A missing scope reads as an empty list, as a ``defaultdict(list)`` does.
    """

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def __missing__(self, key: Any) -> HookList:
        value = HookList(self._changed)
        dict.__setitem__(self, key, value)  # an empty list changes nothing
        return value

    def __setitem__(self, key: Any, value: Iterable[Any]) -> None:
        dict.__setitem__(self, key, HookList(self._changed, value))
        self._changed()

    def setdefault(self, key: Any, default: Iterable[Any] | None = None) -> Any:
        if key not in self:
            self[key] = default or ()
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class Scaffold:
    """Common base of the app and of blueprints: the registration API they share."""

    name: str
    #: Who may call the routes, for the API spec: names in ``app.security_schemes``
    #: (``"bearer"``, or ``[{"oauth": ["read"]}]``); a route's ``security=`` wins.
    security: SecurityRequirements | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        self.static_folder = os.fspath(static_folder) if static_folder is not None else None
        self._static_url_path = static_url_path
        self.template_folder = os.fspath(template_folder) if template_folder is not None else None
        self.view_functions: dict[str, RouteCallable] = {}
        self._cli: click.Group | None = None
        self.error_handler_spec: ErrorHandlerSpec = defaultdict(lambda: defaultdict(dict))
        # The hooks route plans are made of: changed after the first request (Flask
        # extensions append to them directly), they tell _hooks_changed.
        changed = self._hooks_changed
        self.before_request_funcs: dict[Scope, list[RouteCallable]] = HookRegistry(changed)
        self.after_request_funcs: dict[Scope, list[AfterRequestCallable]] = HookRegistry(changed)
        self.teardown_request_funcs: dict[Scope, list[TeardownCallable]] = HookRegistry(changed)
        self.before_websocket_funcs: dict[Scope, list[RouteCallable]] = HookRegistry(changed)
        self.after_websocket_funcs: dict[Scope, list[AfterRequestCallable]] = HookRegistry(changed)
        self.url_value_preprocessors: dict[Scope, list[URLValuePreprocessor]] = HookRegistry(
            changed
        )
        self.url_default_functions: dict[Scope, list[URLDefaultCallable]] = defaultdict(list)
        self.template_context_processors: dict[Scope, list[Callable[[], dict[str, Any]]]] = (
            defaultdict(list)
        )

    @property
    def cli(self) -> click.Group:
        """A click group for commands: the app's run with ``microasgi --app ... <name>``, a
        blueprint's with ``microasgi <blueprint> <name>``."""
        if self._cli is None:
            self._cli = self.make_cli_group(self.name)
        return self._cli

    def make_cli_group(self, name: str) -> click.Group:
        """The group behind :attr:`cli` (the serving layer's runs commands in an app context)."""
        return click.Group(name)

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    def _hooks_changed(self) -> None:
        """A hook list changed (an app plans its routes again if it is serving already)."""

    @property
    def static_url_path(self) -> str | None:
        """URL prefix of the static files (defaults to ``/<basename of static_folder>``)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            return "/" + os.path.basename(self.static_folder.rstrip("/\\"))
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        self._static_url_path = value.rstrip("/") if value is not None else None

    @property
    def has_static_folder(self) -> bool:
        """Whether a :attr:`static_folder` is set."""
        return self.static_folder is not None

    @property
    def jinja_loader(self) -> FileSystemLoader | None:
        """A Jinja2 loader for this app's or blueprint's template folder (``None`` if unset)."""
        if self.template_folder is None:
            return None
        from jinja2 import FileSystemLoader

        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    def send_static_file(self, filename: str) -> SansIOResponse:
        """The view behind the ``static`` endpoint (the serving layer provides it)."""
        raise NotImplementedError

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache lifetime (seconds) of a static file (the serving layer provides it)."""
        raise NotImplementedError

    # -- routes ----------------------------------------------------------------

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function as the view for ``rule``.

        ``@app.route("/users/<int:user_id>", methods=["GET", "POST"])``. Options
        are those of :meth:`add_url_rule`.
        """

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    def websocket(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated ``async def`` as the websocket handler for ``rule``.

        Inside it, ``websocket`` is the connection (see :mod:`microasgi.websockets`).
        """

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, websocket=True, **options)
            return f

        return decorator

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register ``view_func`` for ``rule``; the app and the blueprint each provide it."""
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        """Register the decorated function as the view for an existing ``endpoint``."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks -----------------------------------------------------------------

    @setupmethod
    def before_request(self, f: F) -> F:
        """Run ``f()`` before each request; a non-``None`` return value is the response."""
        self.before_request_funcs[None].append(f)
        return f

    @setupmethod
    def after_request(self, f: F) -> F:
        """Run ``f(response)`` after each request; it must return a response."""
        self.after_request_funcs[None].append(f)
        return f

    @setupmethod
    def before_websocket(self, f: F) -> F:
        """Run ``f()`` before each websocket handler; a returned response refuses the handshake."""
        self.before_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def after_websocket(self, f: F) -> F:
        """Run ``f(response)`` after each websocket handler (``response`` is usually None)."""
        self.after_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def teardown_request(self, f: F) -> F:
        """Run ``f(error)`` when the request ends, whatever happened (error may be None)."""
        self.teardown_request_funcs[None].append(f)
        return f

    @setupmethod
    def context_processor(self, f: F) -> F:
        """Register a function returning extra template variables."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: F) -> F:
        """Run ``f(endpoint, values)`` on the matched URL values before the view."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: F) -> F:
        """Run ``f(endpoint, values)`` when building a URL, to fill in values."""
        self.url_default_functions[None].append(f)
        return f

    # -- errors ----------------------------------------------------------------

    def errorhandler(self, code_or_exception: type[BaseException] | int) -> Callable[[F], F]:
        """Register the decorated function to answer an error.

        ``@app.errorhandler(404)`` or ``@app.errorhandler(ValueError)``. The
        handler gets the exception and returns a response (or raises).
        """

        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[BaseException] | int, f: ErrorHandlerCallable
    ) -> None:
        """The method behind :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[BaseException] | int,
    ) -> tuple[type[BaseException], int | None]:
        if isinstance(exc_class_or_code, int):
            try:
                return default_exceptions[exc_class_or_code], exc_class_or_code
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a "
                    "subclass of HTTPException with that code instead."
                ) from None
        if isinstance(exc_class_or_code, BaseException):
            raise TypeError(
                f"{exc_class_or_code!r} is an instance, not a class. Handlers can "
                "only be registered for exception classes or HTTP error codes."
            )
        if not (isinstance(exc_class_or_code, type) and issubclass(exc_class_or_code, Exception)):
            raise ValueError(
                f"'{exc_class_or_code!r}' is not a subclass of Exception. Handlers "
                "can only be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class_or_code, HTTPException):
            return exc_class_or_code, exc_class_or_code.code
        return exc_class_or_code, None
