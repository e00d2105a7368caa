"""The bridge from the event loop to worker threads.

Sync views, sync hooks and sync generators run through
:func:`run_in_request_thread`: every sync call of one request runs on the
same worker thread, as under a threaded WSGI server, so code that keeps
thread-bound things on ``g`` (a ``sqlite3`` connection opened in
``before_request`` and closed in ``teardown_appcontext``) works unchanged.
The request leases that thread on its first sync call and gives it back when
it ends, or as soon as a sync view returns when no sync hook or teardown
follows it (the common case): the thread then takes the next request's first
call from a shared queue without going to sleep, as a pool's thread would. The
guarantees of ``anyio.to_thread.run_sync`` hold:

- each call runs in a copy of the caller's context (``request``, ``g`` and
  ``current_app`` work there);
- at most ``SYNC_THREAD_LIMIT`` requests hold a thread at once (per app and
  event loop); others wait their turn, they never fail;
- a caller that is cancelled waits for its call to finish; nothing is
  abandoned mid-call.

:func:`run_sync` is the plain hop (any anyio worker thread, bounded by the
current app's limit): for sync code with no thread affinity, such as lifespan
hooks. :func:`run_io` is for the framework's own short file I/O (spooling a
body, reading a file being sent): it takes neither a request's thread nor one
of the app's slots, so ``def`` views and that I/O never queue behind each other.

A caller may lend its own thread instead (the sync test client does, so a
``def`` view runs on the test's thread, as under Flask's client): a request
whose scope carries a :class:`CallerThread` under the extension
:data:`CALLER_THREAD` sends all its sync calls there, and the caller runs them
while it waits for the app (:meth:`CallerThread.serve_until`).

A request never holds a slot while it waits on its client: a streamed body
gives its slot back while each chunk is sent (the thread of a sync generator
stays the request's, so its steps keep their thread, and takes a slot again for
its next step). A slow reader therefore holds at most one idle thread, never a
slot that another request's ``def`` view is waiting for.
"""

from __future__ import annotations

import functools
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

from ._anyio import call_soon, clear_current_token, set_current_token, thread_token
from .exceptions import ServiceUnavailable
from .globals import _cv_app

if TYPE_CHECKING:
    from .ctx import AppContext

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
    lease: _Lease | None = ctx._lease if ctx is not None else None
    if ctx is not None and lease is not None:
        if not lease.busy:
            return await _call(ctx, lease, _Job(func, args, ctx, lease))  # type: ignore[no-any-return]
        return await anyio.to_thread.run_sync(func, *args)
    return await anyio.to_thread.run_sync(func, *args, limiter=_current_limiter())


async def run_io(func: Callable[..., T], *args: Any) -> T:
    """Run a short blocking call of the framework's own (a file read or write) in a thread.

    From anyio's pool, bounded by its default limiter: never on a request's
    thread nor in one of the app's ``SYNC_THREAD_LIMIT`` slots, so file I/O
    that waits on nothing but the disk never queues behind ``def`` views, nor
    they behind it.
    """
    return await anyio.to_thread.run_sync(func, *args)


class _Job:
    """One call handed to a worker thread, and its outcome."""

    __slots__ = (
        "args",
        "context",
        "ctx",
        "detached",
        "done",
        "error",
        "final",
        "func",
        "token",
        "value",
        "worker",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        ctx: AppContext,
        lease: _Lease,
        final: bool = False,
    ) -> None:
        self.func = func
        self.args = args
        self.ctx = ctx
        self.context: Context = copy_context()
        self.done = anyio.Event()
        self.token = lease.token
        self.final = final  # no sync code of the request follows (see run_in_request_thread)
        self.value: Any = None
        self.error: BaseException | None = None
        self.worker: _Worker | CallerThread | None = None  # the thread that ran it
        self.detached = False  # it went back to the pool after this call


class _Lease:
    """A request's hold on the bridge: its limiter slot, then its thread."""

    __slots__ = ("busy", "limiter", "pool", "token", "worker")

    def __init__(self, limiter: anyio.CapacityLimiter, token: Any, pool: WorkerPool) -> None:
        self.limiter: anyio.CapacityLimiter | None = limiter  # None once given back
        self.token = token  # the event loop's, to wake it when a call ends
        self.pool = pool
        self.worker: _Worker | CallerThread | None = None  # none until its first call has run
        self.busy = False  # a call is queued or running


class WorkerPool:
    """The worker threads that run one app's sync code; :meth:`shutdown` ends them.

    Threads waiting for a request's first call share one queue: a thread that
    finishes a request's last call takes the next request's first one without
    sleeping, and nobody has to wake a particular thread. Threads given back at
    the end of a request wait on their own queue (giving one back wakes
    nobody): a first call goes to one of them first. At most ``max_parked``
    wait so; more end. After :meth:`shutdown`, new calls start new threads.
    """

    def __init__(self, max_parked: int = 64) -> None:
        self._first_calls: SimpleQueue[_Job | None] = SimpleQueue()
        self._idle = 0  # threads waiting on _first_calls, or about to
        self._idle_lock = threading.Lock()
        self._parked: deque[_Worker] = deque()
        self._max_parked = max_parked
        self._workers: set[_Worker] = set()

    @property
    def threads(self) -> int:
        """How many threads the pool has now."""
        return len(self._workers)

    def _now_idle(self) -> None:
        with self._idle_lock:
            self._idle += 1

    def _submit_first(self, job: _Job) -> None:
        try:
            parked = self._parked.pop()  # (atomic: another event loop's thread may pop too)
        except IndexError:
            pass
        else:
            parked.jobs.put(job)
            return
        with self._idle_lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1  # that waiting thread will take this job
        self._first_calls.put(job)
        if start:
            _Worker(self)

    def _park(self, worker: _Worker) -> None:
        if len(self._parked) < self._max_parked:
            self._parked.append(worker)
        else:
            worker.jobs.put(None)  # enough spare threads: this one ends

    def shutdown(self) -> None:
        """End every thread once its call (if any) is done; calls made later start new ones."""
        while self._parked:
            self._parked.pop().jobs.put(None)
        with self._idle_lock:
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._first_calls.put(None)


def _keeps_thread(job: _Job) -> bool:
    """Whether the request may run more sync code after this call, so keeps its thread."""
    if not job.final or job.error is not None or job.ctx._after_request_functions:
        return True  # an error handler, an after_this_request function
    value = job.value
    if value.__class__ is tuple and value:
        value = value[0]
    # A sync iterator: a generator's steps run later on the request's thread.
    # (A file or an async iterator is sent from the loop without it.)
    return hasattr(value, "__next__") or getattr(value, "_steps_in_thread", False) is True


class _Worker:
    """A daemon thread: a request's first call from the pool's queue, then that request's."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        # C queues: put and get cost no Python-level lock or condition (as a
        # threading.Semaphore would), on the loop thread nor in the worker.
        self.jobs: SimpleQueue[_Job | None] = SimpleQueue()
        pool._workers.add(self)
        threading.Thread(target=self._serve, name="microasgi-request", daemon=True).start()

    def _serve(self) -> None:
        pool = self.pool
        queue = pool._first_calls  # started for a first call already queued
        try:
            while True:
                job = queue.get()
                if job is None:
                    return
                job.worker = self
                set_current_token(job.token)
                try:
                    job.value = job.context.run(job.func, *job.args)
                except BaseException as exc:
                    job.error = exc
                if _keeps_thread(job):
                    queue = self.jobs
                else:
                    # Free for the next request before the loop even hears of it.
                    job.detached = True
                    pool._now_idle()
                    queue = pool._first_calls
                with suppress(Exception):  # the loop is gone: nobody waits any more
                    # The wake-up is scheduled, not waited for: the thread is free
                    # for the next call at once.
                    call_soon(job.token, job.done.set)
        finally:
            pool._workers.discard(self)


#: The scope extension under which a request is given a :class:`CallerThread`.
CALLER_THREAD = "microasgi.caller_thread"


class CallerThread:
    """A thread lending itself to the sync calls of the requests it makes.

    Put in a request's scope (``scope["extensions"][CALLER_THREAD]``), it gets
    every sync call of that request: ``def`` views, hooks, teardown, a
    generator's steps. They wait in :attr:`jobs` until the thread that made it
    runs them in :meth:`serve_until`, as it waits for the app. The pool never
    parks nor ends it. The sync test client makes one per test thread.
    """

    def __init__(self) -> None:
        # The requests' calls, and callables others hand the thread (call_soon).
        self.jobs: SimpleQueue[Any] = SimpleQueue()

    def call_soon(self, func: Callable[[], object]) -> None:
        """Have ``func()`` run on this thread, in turn with the calls (thread-safe)."""
        self.jobs.put(func)

    def serve_until(self, done: Callable[[], bool]) -> None:
        """Run the calls and callables given to this thread until ``done()`` is true.

        Only the thread that made this object may call it; ``done`` is checked
        before each wait, so whatever makes it true must also hand this thread
        something (:meth:`call_soon`) to wake it.
        """
        jobs = self.jobs
        while not done():
            item = jobs.get()
            if item.__class__ is _Job:
                self._run(item)
            else:
                item()

    def _run(self, job: _Job) -> None:
        job.worker = self
        # As in a worker, anyio.from_thread reaches the request's loop from here;
        # the thread's own token (an anyio worker's, or none) comes back after.
        previous = thread_token()
        set_current_token(job.token)
        try:
            job.value = job.context.run(job.func, *job.args)
        except BaseException as exc:
            job.error = exc
        finally:
            if previous is None:
                clear_current_token()
            else:
                set_current_token(previous)
        with suppress(Exception):  # the loop is gone: nobody waits any more
            call_soon(job.token, job.done.set)


def _caller_thread(ctx: AppContext) -> CallerThread | None:
    connection = ctx.request if ctx.request is not None else ctx.websocket
    extensions = connection.scope.get("extensions")
    return extensions.get(CALLER_THREAD) if extensions else None


async def _call(ctx: AppContext, lease: _Lease, job: _Job) -> Any:
    # A cancelled request starts nothing new (a stream's next chunk, say).
    await anyio.lowlevel.checkpoint_if_cancelled()
    lease.busy = True
    if lease.worker is None:
        lease.pool._submit_first(job)
    else:
        lease.worker.jobs.put(job)
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
        lease.busy = False
        if job.detached:  # the thread went back to the pool already
            lease.worker = None
            release_request_thread(ctx)  # and so does the slot
        else:
            lease.worker = job.worker
    error = job.error
    if error is not None:
        job.error = None
        try:
            raise error
        finally:
            # This frame goes into the traceback: holding the error (or the job
            # that holds it) would make a cycle keeping the view's locals alive.
            del error
    return job.value


async def run_in_request_thread(func: Callable[..., T], *args: Any, final: bool = False) -> T:
    """Run ``func(*args)`` on the current request's worker thread (leased on first use).

    ``final`` says no other sync code of the request follows (no sync hook or
    teardown is planned): unless the call's outcome needs more (an error, an
    ``after_this_request`` function, an iterator to step), the thread goes
    back to the pool right after it.

    Outside a request, or for a call made while the request's thread is busy
    (a nested call through ``anyio.from_thread``), this is :func:`run_sync`.
    """
    ctx = _cv_app.get(None)
    if ctx is None or (ctx.request is None and ctx.websocket is None):
        return await run_sync(func, *args)
    lease: _Lease | None = ctx._lease
    if lease is None:
        limiter = await _take_slot(ctx)
        lease = ctx._lease = _Lease(limiter, anyio.lowlevel.current_token(), ctx.app._workers)
        lease.worker = _caller_thread(ctx)  # a thread lent by the caller, kept to the end
    elif lease.busy:
        # Queuing behind the call that is waiting for us would deadlock.
        return await anyio.to_thread.run_sync(func, *args)
    elif lease.limiter is None:  # it gave its slot back while it waited on the client
        lease.limiter = await _take_slot(ctx)
    return await _call(ctx, lease, _Job(func, args, ctx, lease, final))  # type: ignore[no-any-return]


async def _take_slot(ctx: AppContext) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter = ctx.app._thread_limiter()
    try:  # a free slot needs no trip round the event loop
        limiter.acquire_on_behalf_of_nowait(ctx)
    except anyio.WouldBlock:
        queue_limit = ctx.app.config["SYNC_QUEUE_LIMIT"]
        if (
            queue_limit is not None
            and not ctx._queue_refused
            and limiter.statistics().tasks_waiting >= queue_limit
        ):
            # Refused once, at its first sync call (a 503 for the client); its
            # teardown, if sync, then waits its turn like anything else.
            ctx._queue_refused = True
            raise ServiceUnavailable(
                "The server is busy: too many requests are waiting. Try again shortly.",
                retry_after=1,
            ) from None
        await limiter.acquire_on_behalf_of(ctx)
    return limiter


def release_request_slot(ctx: AppContext) -> None:
    """Give back the request's limiter slot but keep its thread.

    While a response waits on its client, and for a context kept after its
    request (the test client's ``with client:``): the next sync call of the
    request (a generator's step, a teardown hook) runs on the same thread, and
    takes a slot again first.
    """
    lease: _Lease | None = ctx._lease
    if lease is not None and lease.limiter is not None:
        limiter, lease.limiter = lease.limiter, None
        limiter.release_on_behalf_of(ctx)


def release_request_thread(ctx: AppContext) -> None:
    """Give the request's worker thread (and its limiter slot) back: the request is over."""
    lease: _Lease | None = ctx._lease
    if lease is None:
        return
    release_request_slot(ctx)
    ctx._lease = None
    worker = lease.worker
    if isinstance(worker, _Worker):  # (a CallerThread goes back to nobody)
        lease.pool._park(worker)


_DONE = object()


def _next(iterator: Iterator[Any]) -> Any:
    # StopIteration cannot cross a thread boundary into a coroutine; a sentinel can.
    return next(iterator, _DONE)


async def iterate_in_threads(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable without blocking the loop: each step on the request's thread.

    A step holds a slot only while it runs: not while its chunk is sent.
    """
    iterator = iter(iterable)
    ctx = _cv_app.get(None)
    while True:
        item = await run_in_request_thread(_next, iterator)
        if ctx is not None:
            release_request_slot(ctx)
        if item is _DONE:
            return
        yield item


def call_async(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the async function ``func`` from sync code and return its result.

    From a thread that runs a request's sync code (a worker, or the test
    client's thread), ``func`` runs on that request's event loop; from a thread
    with no event loop (a CLI command, a script), on a new one. The event
    loop's own thread cannot wait for it: that is an error saying to await it.
    """
    call = functools.partial(func, *args, **kwargs)
    if thread_token() is not None:
        return anyio.from_thread.run(call)
    try:
        anyio.lowlevel.current_token()
    except RuntimeError:  # no event loop in this thread: start one
        return anyio.run(call)
    name = getattr(func, "__qualname__", repr(func))
    raise RuntimeError(
        f"{name} is async and this thread runs the event loop: await it instead"
        " (for a context, use `async with` instead of `with`)."
    )
