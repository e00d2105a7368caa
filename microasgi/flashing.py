"""Flash messages: record a message in one request, show it in the next.

``flash("Saved")`` stores ``(category, message)`` in the session;
``get_flashed_messages()`` (in a view or a template) takes them out of it.
They need a session, so a ``SECRET_KEY``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, overload

from .globals import _cv_app
from .signals import message_flashed

if TYPE_CHECKING:
    from .ctx import AppContext
    from .wrappers.request import Request

__all__ = ["flash", "get_flashed_messages"]

_KEY = "_flashes"


def _request_context(func_name: str) -> tuple[AppContext, Request]:
    ctx = _cv_app.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "Working outside of request context.\n\n"
            f"{func_name}() keeps messages in the session, so it needs an active request:"
            " call it from a view or a hook (in tests, use the test client or"
            " app.test_request_context())."
        )
    return ctx, ctx.request


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` for the next request: ``flash("Saved", "info")``.

    Categories are free-form strings; ``"message"``, ``"error"``, ``"info"``
    and ``"warning"`` are usual. Sends ``message_flashed`` (sender: the app;
    ``message``, ``category``), as Flask does.
    """
    ctx, _request = _request_context("flash")
    session = ctx.session
    # Assigning (not appending in place) is what marks the session modified.
    session[_KEY] = [*session.get(_KEY, ()), (category, message)]
    if message_flashed.receivers:
        app = ctx.app
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


@overload
def get_flashed_messages(
    with_categories: Literal[False] = False, category_filter: Iterable[str] = ()
) -> list[str]: ...
@overload
def get_flashed_messages(
    with_categories: Literal[True], category_filter: Iterable[str] = ()
) -> list[tuple[str, str]]: ...
@overload
def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]: ...
def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """The messages flashed so far, oldest first, removed from the session.

    The first call in a request takes them out of the session; later calls in
    the same request see the same messages. ``with_categories=True`` gives
    ``(category, message)`` pairs; ``category_filter=["error"]`` keeps only
    those categories.
    """
    ctx, _request = _request_context("get_flashed_messages")
    flashes = ctx.flashes
    if flashes is None:
        session = ctx.session
        stored = session.pop(_KEY) if _KEY in session else ()
        # A custom session store may give lists back where tuples went in.
        flashes = ctx.flashes = [(category, message) for category, message in stored]
    if category_filter:
        wanted = {category_filter} if isinstance(category_filter, str) else set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return list(flashes)
    return [message for _category, message in flashes]
