"""The one bridge from the event loop to worker threads.

Sync views, sync hooks, sync generators and (later) WSGI apps all run through
:func:`run_sync`: the call happens in an anyio worker thread, with a copy of the
caller's context (so ``request``, ``g`` and ``current_app`` work there), at most
``SYNC_THREAD_LIMIT`` at once per app (more calls queue, they never fail), and a
cancelled caller waits for the thread to finish instead of abandoning it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from .globals import _cv_app

T = TypeVar("T")

_limiters: RunVar[dict[int, anyio.CapacityLimiter]] = RunVar("microasgi_limiters")


def thread_limiter(key: int, total: int) -> anyio.CapacityLimiter:
    """The limiter for ``key`` (an app's id) in the running event loop.

    A limiter belongs to one event loop; each loop (a server, a test client's
    portal) gets its own, created on first use.
    """
    try:
        limiters = _limiters.get()
    except LookupError:
        limiters = {}
        _limiters.set(limiters)
    limiter = limiters.get(key)
    if limiter is None:
        limiter = limiters[key] = anyio.CapacityLimiter(total)
    return limiter


async def run_sync(func: Callable[..., T], *args: Any) -> T:
    """Run ``func(*args)`` in a worker thread bounded by the current app's limit."""
    ctx = _cv_app.get(None)
    limiter = ctx.app._thread_limiter() if ctx is not None else None
    return await anyio.to_thread.run_sync(func, *args, limiter=limiter)


_DONE = object()


def _next(iterator: Iterator[Any]) -> Any:
    # StopIteration cannot cross a thread boundary into a coroutine; a sentinel can.
    return next(iterator, _DONE)


async def iterate_in_threads(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable without blocking the loop: each step in a worker thread."""
    iterator = iter(iterable)
    while True:
        item = await run_sync(_next, iterator)
        if item is _DONE:
            return
        yield item
