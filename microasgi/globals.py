"""The context locals ``current_app``, ``g``, ``request``, ``session``, ``websocket``.

Each is a proxy over one :class:`contextvars.ContextVar` holding the current
:class:`~microasgi.ctx.AppContext`, so every request (an ASGI task, and the
worker threads and tasks it starts, which copy its context) sees only its own
values.

Flask keeps two context variables, ``_cv_app`` and ``_cv_request``, and code
written for Flask reads them (``_cv_request.get(None)``, ``request_ctx.session``,
``app_ctx.g``). Here one context object carries both the app and the request,
so ``_cv_request`` reads through ``_cv_app`` and ``request_ctx`` is the current
context when it has a request: a request sets one context variable, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from werkzeug.local import LocalProxy as _WerkzeugLocalProxy

if TYPE_CHECKING:
    from .ctx import AppContext, _AppCtxGlobals
    from .sansio.app import App
    from .sessions import SessionMixin
    from .wrappers.request import Request

__all__ = [
    "LocalProxy",
    "app_ctx",
    "current_app",
    "g",
    "request",
    "request_ctx",
    "session",
    "websocket",
]

T = TypeVar("T")

_cv_app: ContextVar[AppContext] = ContextVar("microasgi.app_ctx")

_NO_APP = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context() (as a `with` block, or `async with`)."""

_NO_REQUEST = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. In tests, use app.test_request_context() or the
test client; see the testing docs."""

_NO_WEBSOCKET = """\
Working outside of websocket context.

`websocket` is only available inside a handler registered with
@app.websocket(...) and the hooks that run for it."""

_unset: Any = object()


class LocalProxy(_WerkzeugLocalProxy[T]):
    """Forwards every operation to the object ``getter()`` returns right now.

    Werkzeug's :class:`~werkzeug.local.LocalProxy` (so ``isinstance`` checks,
    ``__class__``, operators and ``_get_current_object()`` behave as in Flask),
    with the operations views use most made direct: Werkzeug's generic lookup
    costs about twice as much per attribute.
    """

    __slots__ = ()

    def __init__(self, getter: Callable[[], T]) -> None:
        super().__init__(getter)
        # Werkzeug wraps a getter in a closure that only calls it: call it directly.
        object.__setattr__(self, "_get_current_object", getter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get_current_object(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get_current_object(), name, value)

    def __getitem__(self, key: Any) -> Any:
        return self._get_current_object()[key]  # type: ignore[index]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._get_current_object()[key] = value  # type: ignore[index]

    def __contains__(self, item: Any) -> bool:
        return item in self._get_current_object()  # type: ignore[operator]

    def __iter__(self) -> Iterator[Any]:
        return iter(cast(Any, self._get_current_object()))

    def __len__(self) -> int:
        return len(cast(Any, self._get_current_object()))

    def __bool__(self) -> bool:
        try:
            return bool(self._get_current_object())
        except RuntimeError:  # unbound: false, as Werkzeug's
            return False


class _RequestContextVar:
    """Flask's ``_cv_request``, read through ``_cv_app``.

    ``get()`` returns the current context when it carries a request (the same
    object ``_cv_app.get()`` returns), else the default, else raises
    ``LookupError``, as a :class:`~contextvars.ContextVar` does. ``set`` and
    ``reset`` act on ``_cv_app``: setting a request context here makes it the
    app context too, since one object is both.
    """

    __slots__ = ()

    name = "microasgi.request_ctx"

    @overload
    def get(self) -> AppContext: ...
    @overload
    def get(self, default: T) -> AppContext | T: ...
    def get(self, default: Any = _unset) -> Any:
        """The current request context, else ``default`` (``LookupError`` without one)."""
        ctx = _cv_app.get(None)
        if ctx is not None and ctx.request is not None:
            return ctx
        if default is _unset:
            raise LookupError(self)
        return default

    def set(self, value: AppContext) -> Token[AppContext]:
        """Make ``value`` the current context; reset it with the returned token."""
        return _cv_app.set(value)

    def reset(self, token: Token[AppContext]) -> None:
        """Undo the :meth:`set` that returned ``token``."""
        _cv_app.reset(token)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


_cv_request = _RequestContextVar()


def _find_app_ctx() -> AppContext:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(_NO_APP)
    return ctx


def _find_app() -> App:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(_NO_APP)
    return ctx.app


def _find_g() -> _AppCtxGlobals:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(_NO_APP)
    return ctx.g


def _find_request_ctx() -> AppContext:
    ctx = _cv_app.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_NO_REQUEST)
    return ctx


def _find_request() -> Request:
    ctx = _cv_app.get(None)
    request = ctx.request if ctx is not None else None
    if request is None:
        raise RuntimeError(_NO_REQUEST)
    return request


def _find_websocket() -> Any:
    ctx = _cv_app.get(None)
    websocket = ctx.websocket if ctx is not None else None
    if websocket is None:
        raise RuntimeError(_NO_WEBSOCKET)
    return websocket


def _find_session() -> SessionMixin:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(_NO_REQUEST)
    return ctx.session  # raises the same outside a request


#: The current :class:`~microasgi.ctx.AppContext` (Flask's ``app_ctx``).
app_ctx: AppContext = cast("AppContext", LocalProxy(_find_app_ctx))
#: The current context when it carries a request (Flask's ``request_ctx``): it has
#: ``request``, ``session``, ``app``, ``g`` and ``flashes``.
request_ctx: AppContext = cast("AppContext", LocalProxy(_find_request_ctx))
current_app: App = cast("App", LocalProxy(_find_app))
g: _AppCtxGlobals = cast("_AppCtxGlobals", LocalProxy(_find_g))
request: Request = cast("Request", LocalProxy(_find_request))
websocket: Any = LocalProxy(_find_websocket)
session: SessionMixin = cast("SessionMixin", LocalProxy(_find_session))
