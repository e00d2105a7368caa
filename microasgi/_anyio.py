"""The two anyio internals the bridge uses for speed, fenced: both are checked at import.

- ``anyio._core._eventloop.threadlocals.current_token``: set in a worker thread
  of ours, it lets code there call ``anyio.from_thread.run()`` without a token,
  as in anyio's own worker threads (a sync view reading ``request.stream``,
  say).
- ``EventLoopToken.backend_class.run_sync_soon(func, args, native_token)``:
  schedules ``func`` on the event loop from a thread without waiting for it
  (``anyio.from_thread.run_sync`` blocks the thread until it has run), so a
  worker is free for the next call at once.

``pyproject.toml`` bounds anyio below its next major version. If a release
changes either internal anyway, importing microasgi fails here with a message
that says which, and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from anyio.abc import AsyncBackend


class AnyioChanged(ImportError):
    """anyio no longer has an internal that microasgi's thread bridge uses."""


def check(threadlocals_module: Any, backend: Any) -> Any:
    """The thread-local object of anyio's event loop module; ``AnyioChanged`` if either
    internal is gone (the two arguments: anyio's ``_core._eventloop`` and
    ``abc.AsyncBackend``)."""
    threadlocals = getattr(threadlocals_module, "threadlocals", None)
    if threadlocals is None:
        raise AnyioChanged(_changed("anyio._core._eventloop.threadlocals"))
    if not callable(getattr(backend, "run_sync_soon", None)):
        raise AnyioChanged(_changed("AsyncBackend.run_sync_soon"))
    return threadlocals


def _changed(name: str) -> str:
    return (
        f"microasgi's thread bridge uses {name}, which anyio {version('anyio')} no longer"
        " has. Install the anyio release microasgi's pyproject.toml allows"
        " (pip install 'anyio>=4.11,<5'), or a microasgi release made for this anyio."
    )


try:
    from anyio._core import _eventloop
except ImportError as exc:  # pragma: no cover - an anyio that moved the module
    raise AnyioChanged(_changed("anyio._core._eventloop")) from exc

_threadlocals = check(_eventloop, AsyncBackend)


def set_current_token(token: Any) -> None:
    """Let ``anyio.from_thread.run()`` reach ``token``'s loop from this (our own) thread."""
    _threadlocals.current_token = token


def call_soon(token: Any, func: Callable[[], object]) -> None:
    """Schedule ``func()`` on ``token``'s event loop without waiting for it (thread-safe)."""
    token.backend_class.run_sync_soon(func, (), token.native_token)


def thread_token() -> Any:
    """The event loop token set for this thread (ours or anyio's worker), or ``None``."""
    return getattr(_threadlocals, "current_token", None)


def clear_current_token() -> None:
    """Undo :func:`set_current_token`: this thread reaches no event loop any more."""
    if hasattr(_threadlocals, "current_token"):
        del _threadlocals.current_token
