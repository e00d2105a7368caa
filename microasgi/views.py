"""Class-based views: :class:`View` and :class:`MethodView`, as Flask's.

Handler methods may be ``def`` or ``async def``: a sync method runs in a worker
thread through the bridge, an async one on the event loop, exactly like
function views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from .bridge import run_in_request_thread
from .globals import current_app as current_app
from .globals import request
from .sansio.scaffold import is_async_callable

#: The method names a :class:`MethodView` looks for, as Flask's.
http_method_funcs = frozenset({"get", "post", "head", "options", "delete", "put", "trace", "patch"})


class View:
    """Subclass and implement :meth:`dispatch_request`; register with :meth:`as_view`.

    ::

        class Hello(View):
            def dispatch_request(self, name):
                return f"Hello {name}"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))
    """

    #: Methods the view accepts (used when registering it).
    methods: ClassVar[set[str] | None] = None
    #: Whether OPTIONS is answered automatically (``None``: the app decides).
    provide_automatic_options: ClassVar[bool | None] = None
    #: Decorators applied to the generated view function, in order.
    decorators: ClassVar[list[Callable[..., Any]]] = []
    #: Create one instance for all requests instead of one per request.
    init_every_request: ClassVar[bool] = True

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Handle a request; the URL values are keyword arguments."""
        raise NotImplementedError()

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """A view function for :meth:`add_url_rule`, named ``name`` (the endpoint)."""
        view: Any
        if cls.init_every_request:
            make: Callable[[], View] = lambda: cls(*class_args, **class_kwargs)  # noqa: E731
        else:
            instance = cls(*class_args, **class_kwargs)
            make = lambda: instance  # noqa: E731

        if is_async_callable(cls.dispatch_request) or _dispatches_to_async(cls):
            # Awaited on the loop; a MethodView's sync handlers still go to the thread.
            async def view(**kwargs: Any) -> Any:
                self = make()
                return await self._dispatch_async(**kwargs)

        else:

            def view(**kwargs: Any) -> Any:
                return make().dispatch_request(**kwargs)

        if cls.decorators:
            # Named first, as in Flask: a decorator may key on the view's name (a rate
            # limiter's bucket, a cache key).
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.view_class = cls
        view.methods = cls.methods
        view.provide_automatic_options = cls.provide_automatic_options
        return view  # type: ignore[no-any-return]

    async def _dispatch_async(self, **kwargs: Any) -> Any:
        return await self.dispatch_request(**kwargs)


class MethodView(View):
    """Dispatch to a method named after the HTTP method (``get``, ``post``, ...).

    ::

        class UserAPI(MethodView):
            async def get(self, id):
                return {"id": id}

            def delete(self, id):
                ...
                return "", 204
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods = {name.upper() for name in http_method_funcs if hasattr(cls, name)}
            for base in cls.__bases__:
                methods.update(getattr(base, "methods", None) or ())
            if methods:
                cls.methods = methods

    def _handler(self) -> Callable[..., Any]:
        handler = getattr(self, request.method.lower(), None)
        # HEAD is answered by GET when there is no head() (the body is dropped).
        if handler is None and request.method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            raise AssertionError(f"Unimplemented method {request.method!r}")
        return handler  # type: ignore[no-any-return]

    async def _dispatch_async(self, **kwargs: Any) -> Any:
        handler = self._handler()
        if is_async_callable(handler):
            return await handler(**kwargs)
        return await run_in_request_thread(lambda: handler(**kwargs))

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Call the handler named after the request's method (Flask's, sync: an async
        handler runs through ``current_app.ensure_sync``)."""
        return current_app.ensure_sync(self._handler())(**kwargs)


def _dispatches_to_async(cls: type[View]) -> bool:
    """Whether ``cls`` is a MethodView with an async handler that picks it per request.

    A view class with only sync code (or its own sync ``dispatch_request``, as
    Flask-RESTful's ``Resource``) gets a plain ``def`` view, as in Flask: code
    that wraps views with sync functions gets a value, not a coroutine.
    """
    return (
        issubclass(cls, MethodView)
        and cls.dispatch_request is MethodView.dispatch_request
        and any(is_async_callable(getattr(cls, name, None)) for name in http_method_funcs)
    )
