"""The context locals ``current_app``, ``g``, ``request``, ``session``, ``websocket``.

Each is a proxy over one :class:`contextvars.ContextVar` holding the current
:class:`~microasgi.ctx.AppContext`, so every request (an ASGI task, and the
worker threads and tasks it starts, which copy its context) sees only its own
values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from .ctx import AppContext, _AppCtxGlobals
    from .sansio.app import App
    from .sessions import SessionMixin
    from .wrappers.request import Request

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


class LocalProxy(Generic[T]):
    """Forwards every operation to the object ``getter()`` returns right now."""

    __slots__ = ("_get",)

    def __init__(self, getter: Callable[[], T]) -> None:
        object.__setattr__(self, "_get", getter)

    def _get_current_object(self) -> T:
        """The real object behind the proxy (to pass it to another task or thread)."""
        return self._get()  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._get()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._get()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._get()[key]

    def __contains__(self, item: Any) -> bool:
        return item in self._get()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __aiter__(self) -> Any:
        return self._get().__aiter__()

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        try:
            return bool(self._get())
        except RuntimeError:
            return False

    def __eq__(self, other: object) -> bool:
        return self._get() == other  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        return self._get() != other  # type: ignore[no-any-return]

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._get()(*args, **kwargs)

    def __repr__(self) -> str:
        try:
            return repr(self._get())
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"

    def __str__(self) -> str:
        return str(self._get())


def _find_app() -> App:
    try:
        return _cv_app.get().app
    except LookupError:
        raise RuntimeError(_NO_APP) from None


def _find_g() -> _AppCtxGlobals:
    try:
        return _cv_app.get().g
    except LookupError:
        raise RuntimeError(_NO_APP) from None


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


current_app: App = cast("App", LocalProxy(_find_app))
g: _AppCtxGlobals = cast("_AppCtxGlobals", LocalProxy(_find_g))
request: Request = cast("Request", LocalProxy(_find_request))
websocket: Any = LocalProxy(_find_websocket)
session: SessionMixin = cast("SessionMixin", LocalProxy(_find_session))
