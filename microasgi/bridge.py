"""The bridge from the event loop to worker threads.

Sync views, sync hooks and sync generators run through
:func:`run_in_request_thread`: every sync call of one request runs on the
same worker thread, as under a threaded WSGI server, so code that keeps
thread-bound things on ``g`` (a ``sqlite3`` connection opened in
``before_request`` and closed in ``teardown_appcontext``) works unchanged.
The request leases that thread on its first sync call and gives it back when
it ends. The guarantees of ``anyio.to_thread.run_sync`` hold:

- each call runs in a copy of the caller's context (``request``, ``g`` and
  ``current_app`` work there);
- at most ``SYNC_THREAD_LIMIT`` requests hold a thread at once (per app and
  event loop); others wait their turn, they never fail;
- a caller that is cancelled waits for its call to finish; nothing is
  abandoned mid-call.

:func:`run_sync` is the plain hop (any anyio worker thread, bounded by the
current app's limit): for work with no thread affinity, such as a WSGI app's
request, file reads outside a request, or lifespan hooks.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import suppress
from contextvars import Context, copy_context
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from anyio.lowlevel import RunVar

from .globals import _cv_app

if TYPE_CHECKING:
    from .ctx import AppContext

T = TypeVar("T")

_limiters: RunVar[dict[int, anyio.CapacityLimiter]] = RunVar("microasgi_limiters")

_anyio_threadlocals: Any
try:  # Lets code in our threads call anyio.from_thread.run() without a token.
    from anyio._core._eventloop import threadlocals as _anyio_threadlocals
except ImportError:  # pragma: no cover - a future anyio without it
    _anyio_threadlocals = None


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


def _current_limiter() -> anyio.CapacityLimiter | None:
    ctx = _cv_app.get(None)
    return ctx.app._thread_limiter() if ctx is not None else None


async def run_sync(func: Callable[..., T], *args: Any) -> T:
    """Run ``func(*args)`` in a worker thread, bounded by the current app's limit.

    In a request that already holds a thread (it ran sync code), the call runs
    there: the request never waits for a second slot, so requests holding every
    slot cannot deadlock waiting for each other.
    """
    ctx = _cv_app.get(None)
    worker: _Worker | None = ctx._worker if ctx is not None else None
    if worker is not None:
        if not worker.busy:
            return await worker.call(func, args)
        return await anyio.to_thread.run_sync(func, *args)
    return await anyio.to_thread.run_sync(func, *args, limiter=_current_limiter())


class _Job:
    """One call handed to a worker thread, and its outcome."""

    __slots__ = ("args", "context", "done", "error", "func", "token", "value")

    def __init__(self, func: Callable[..., Any], args: tuple[Any, ...], token: Any) -> None:
        self.func = func
        self.args = args
        self.context: Context = copy_context()
        self.done = anyio.Event()
        self.token = token
        self.value: Any = None
        self.error: BaseException | None = None


class _Worker:
    """A daemon thread that runs the calls of the request leasing it, one at a time."""

    def __init__(self) -> None:
        # A C queue: put and get cost no Python-level lock or condition (a
        # threading.Semaphore does), on the loop thread nor in the worker.
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self.busy = False
        #: The request whose limiter slot this thread holds (None once given back),
        #: that limiter, and the event loop's token (to wake it when a call ends).
        self.borrower: Any = None
        self.limiter: anyio.CapacityLimiter | None = None
        self.token: Any = None
        threading.Thread(target=self._serve, name="microasgi-request", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if _anyio_threadlocals is not None:
                _anyio_threadlocals.current_token = job.token
            try:
                job.value = job.context.run(job.func, *job.args)
            except BaseException as exc:
                job.error = exc
            token = job.token
            with suppress(Exception):  # the loop is gone: nobody waits any more
                # Schedule the wake-up without waiting for it: the thread is free
                # for the next call at once (from_thread.run_sync would block).
                token.backend_class.run_sync_soon(job.done.set, (), token.native_token)

    async def call(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        # A cancelled request starts nothing new (a stream's next chunk, say).
        await anyio.lowlevel.checkpoint_if_cancelled()
        job = _Job(func, args, self.token)
        self.busy = True
        self._jobs.put(job)
        try:
            await job.done.wait()
        except BaseException:
            # Once started, a call is waited for even if the request is cancelled
            # (the cancellation goes on right after), as anyio does. Shielding only
            # here spares every call the cost of a cancel scope.
            with anyio.CancelScope(shield=True):
                await job.done.wait()
            raise
        finally:
            self.busy = False
        if job.error is not None:
            raise job.error
        return job.value  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._jobs.put(None)


_IDLE_WORKERS: deque[_Worker] = deque()
_MAX_IDLE = 64


async def run_in_request_thread(func: Callable[..., T], *args: Any) -> T:
    """Run ``func(*args)`` on the current request's worker thread (leased on first use).

    Outside a request, or for a call made while the request's thread is busy
    (a nested call through ``anyio.from_thread``), this is :func:`run_sync`.
    """
    ctx = _cv_app.get(None)
    if ctx is None or (ctx.request is None and ctx.websocket is None):
        return await run_sync(func, *args)
    worker: _Worker | None = ctx._worker
    if worker is None:
        limiter = ctx.app._thread_limiter()
        try:  # a free slot needs no trip round the event loop
            limiter.acquire_on_behalf_of_nowait(ctx)
        except anyio.WouldBlock:
            await limiter.acquire_on_behalf_of(ctx)
        worker = ctx._worker = _IDLE_WORKERS.pop() if _IDLE_WORKERS else _Worker()
        worker.borrower = ctx
        worker.limiter = limiter
        worker.token = anyio.lowlevel.current_token()
    elif worker.busy:
        # Queuing behind the call that is waiting for us would deadlock.
        return await anyio.to_thread.run_sync(func, *args)
    return await worker.call(func, args)


def release_request_slot(ctx: AppContext) -> None:
    """Give back the request's limiter slot but keep its thread.

    For a context kept after its request (the test client's ``with client:``):
    its teardown runs later, on the same thread, without holding a slot that
    other requests wait for.
    """
    worker: _Worker | None = ctx._worker
    if worker is not None and worker.borrower is ctx:
        worker.borrower = None
        assert worker.limiter is not None
        worker.limiter.release_on_behalf_of(ctx)


def release_request_thread(ctx: AppContext) -> None:
    """Give the request's worker thread (and its limiter slot) back: the request is over."""
    worker: _Worker | None = ctx._worker
    if worker is None:
        return
    release_request_slot(ctx)
    ctx._worker = None
    if len(_IDLE_WORKERS) < _MAX_IDLE:
        _IDLE_WORKERS.append(worker)
    else:
        worker.stop()


_DONE = object()


def _next(iterator: Iterator[Any]) -> Any:
    # StopIteration cannot cross a thread boundary into a coroutine; a sentinel can.
    return next(iterator, _DONE)


async def iterate_in_threads(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable without blocking the loop: each step on the request's thread."""
    iterator = iter(iterable)
    while True:
        item = await run_in_request_thread(_next, iterator)
        if item is _DONE:
            return
        yield item
