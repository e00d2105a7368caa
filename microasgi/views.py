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

        if is_async_callable(cls.dispatch_request) or issubclass(cls, MethodView):
            # A MethodView picks its handler per request, and it may be either kind.
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
        if is_async_callable(self.dispatch_request):
            return await self.dispatch_request(**kwargs)
        return await run_in_request_thread(lambda: self.dispatch_request(**kwargs))


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

    async def _dispatch_async(self, **kwargs: Any) -> Any:
        handler = getattr(self, request.method.lower(), None)
        # HEAD is answered by GET when there is no head() (the body is dropped).
        if handler is None and request.method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            raise AssertionError(f"Unimplemented method {request.method!r}")
        if is_async_callable(handler):
            return await handler(**kwargs)
        return await run_in_request_thread(lambda: handler(**kwargs))

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Raises ``RuntimeError``: a MethodView dispatches asynchronously (see :meth:`as_view`)."""
        raise RuntimeError("MethodView dispatches asynchronously; call it through as_view().")
