"""Route plans: what serving one route takes, worked out once when the app starts serving.

A plan lists the hooks that apply to the route (the app's, then its blueprints'
from the outside in; after-hooks the other way round) and says how to call
its view, so the request path only runs what the route needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

from .blueprints import blueprint_chain
from .scaffold import is_async_callable

if TYPE_CHECKING:
    from ..routing import Rule
    from .app import App

T = TypeVar("T")

_Hook = tuple[Callable[..., Any], bool]  # (function, is_async)


def _hooks(funcs: Iterable[Callable[..., Any]]) -> tuple[_Hook, ...]:
    return tuple((f, is_async_callable(f)) for f in funcs)


def call_with_kwargs(func: Callable[..., T], kwargs: dict[str, Any]) -> T:
    return func(**kwargs)


def _missing_view(endpoint: str) -> Callable[..., Any]:
    async def missing(**kwargs: Any) -> Any:
        raise LookupError(
            f"No view function is registered for endpoint {endpoint!r}. Pass view_func= to"
            f" add_url_rule(), or register one with @app.endpoint({endpoint!r})."
        )

    return missing


class RoutePlan:
    """What serving one route takes, worked out once: hooks that apply, how to call the view."""

    __slots__ = (
        "after",
        "automatic_options",
        "before",
        "blueprints",
        "preload",
        "preprocessors",
        "threaded",
        "typed",
        "view",
        "view_is_last",
    )

    def __init__(
        self,
        app: App,
        rule: Rule | None,
        blueprints: tuple[str, ...] = (),
        websocket: bool = False,
    ) -> None:
        names = blueprint_chain(rule.endpoint) if rule is not None else blueprints
        websocket = rule.websocket if rule is not None else websocket
        self.blueprints = names
        scopes = (None, *reversed(names))  # app first, then outer to inner blueprints
        self.preprocessors = _hooks(
            chain.from_iterable(app.url_value_preprocessors[s] for s in scopes)
        )
        before = app.before_websocket_funcs if websocket else app.before_request_funcs
        after = app.after_websocket_funcs if websocket else app.after_request_funcs
        self.before = _hooks(chain.from_iterable(before[s] for s in scopes))
        inner_first = (*names, None)
        self.after = _hooks(chain.from_iterable(reversed(after[s]) for s in inner_first))
        self.preload = rule is None or id(rule) not in app._stream_rules
        self.view: Callable[..., Any] | None = None
        # A typed view's compiled parameters and return value (microasgi.typed); None
        # for a Flask-style view, which then pays nothing for typed views.
        self.typed = app._typed_routes.get(id(rule)) if rule is not None else None
        if self.typed is not None:
            self.typed.configure(app.config["RESPONSE_VALIDATION"])
        # Whether an OPTIONS request gets the automatic answer instead of the view.
        self.automatic_options = rule is not None and rule.provide_automatic_options
        # Whether the view runs in a worker thread: a sync view does; an async view
        # is awaited on the loop, and a generator function called there (that only
        # makes the generator, whose steps run in the request's thread).
        self.threaded = False
        if rule is not None:
            # A rule may exist only for building URLs (Flask allows it): answered 500.
            view = app.view_functions.get(rule.endpoint) or _missing_view(rule.endpoint)
            self.view = view
            self.threaded = not (
                is_async_callable(view)
                or inspect.isgeneratorfunction(view)
                or inspect.isasyncgenfunction(view)
            )
        # Whether no sync code is planned after a sync view (after-hooks, teardown):
        # then its thread may go back to the pool as soon as it returns.
        teardown = chain(
            chain.from_iterable(app.teardown_request_funcs[s] for s in scopes),
            app.teardown_appcontext_funcs,
        )
        self.view_is_last = all(is_async for _, is_async in self.after) and all(
            is_async_callable(f) for f in teardown
        )
