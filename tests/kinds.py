"""Run a test's view or hook as ``def`` and as ``async def``: the two must behave alike."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from microasgi import MicroASGI

KIND = pytest.mark.parametrize("kind", ["sync", "async"])


def as_kind(kind: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as a ``def`` or an ``async def`` function with the same name."""
    if kind == "sync":

        @functools.wraps(func)
        def sync(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return sync

    @functools.wraps(func)
    async def async_(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return async_


KINDS = ["async", "sync"]


def add_view(app: MicroASGI, rule: str, fn: Callable[..., Any], kind: str, **options: Any) -> None:
    """Register ``fn`` as an ``async def`` or a plain ``def`` view (``kind``)."""
    if kind == "async":

        async def view(**kwargs: Any) -> Any:
            return fn(**kwargs)

    else:

        def view(**kwargs: Any) -> Any:
            return fn(**kwargs)

    view.__name__ = fn.__name__
    if fn.__name__ == "<lambda>":
        options.setdefault("endpoint", f"{kind}:{rule}")
    app.add_url_rule(rule, view_func=view, **options)
