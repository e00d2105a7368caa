"""Run a test's view or hook as ``def`` and as ``async def``: the two must behave alike."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

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
