"""The garbage collector for a long-running server: fewer collections, and memory that comes back.

:func:`tune_gc` changes the whole process's collector, so it runs only where
microasgi owns the process: under ``microasgi run`` (which marks its server's
processes with ``MICROASGI_RUN=1``), when an app starts serving, unless
``GC_TUNING`` is ``False``; under any server with ``GC_TUNING = True``; or when
called (``microasgi.memory.tune_gc()``). Never under ``TESTING``. What it does:

- ``gc.freeze()`` moves what exists at startup (modules, the app, its routes)
  out of the collector's sight, and the youngest generation waits for 10,000
  new objects instead of 700. Why: at 64 requests in flight a worker holds
  ~1,600 young container objects, so young collections ran every ~70 requests
  and every ~1,400 requests a full one walked all ~40,000 long-lived objects
  (15-25 ms under uvicorn: the p99 latency).
- A collection waits for *objects*, not bytes: a few reference cycles that
  hold large buffers (a server's connection objects holding a 15 MB websocket
  frame, say) wait as long as a thousand small ones. With the higher threshold
  that took a worker from 42 MB to 1.9 GB under 120 clients sending one such
  frame each. So a thread of its own looks at the process's resident memory
  four times a second and, when it has grown by a quarter (at least 64 MiB)
  since the last look that found it lower, runs a full collection, then gives
  the freed memory back to the system (``malloc_trim`` where the C library is
  glibc). Where resident memory cannot be read (no ``/proc``), there is no
  such thread.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import threading
import time
from collections.abc import Callable

#: Collections of the youngest generation wait for this many new objects while
#: serving (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000
#: How often the memory watch looks, in seconds, and what growth starts a collection.
WATCH_INTERVAL = 0.25
GROWTH_FRACTION = 0.25
GROWTH_FLOOR = 64 * 1024 * 1024

_gc_tuned = False
#: Set by ``microasgi run`` in its server's environment: this process is microasgi's.
OWNED_BY_MICROASGI = "MICROASGI_RUN"


def gc_tuning_wanted(setting: bool | None, testing: bool) -> bool:
    """Whether an app starting to serve tunes the collector: ``GC_TUNING`` (``None`` is
    "where microasgi owns the process"), never under ``TESTING``."""
    if testing or setting is False:
        return False
    return setting is True or os.environ.get(OWNED_BY_MICROASGI) == "1"


def tune_gc() -> bool:
    """Once per process: freeze what exists, collect young objects less often, watch memory.

    Nothing is done if the GC is disabled; a young threshold set higher already
    is kept. Returns whether it acted.
    """
    global _gc_tuned
    if _gc_tuned or not gc.isenabled():
        return False
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    if 0 < young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *older)
    baseline = resident_memory()
    if baseline is not None:
        threading.Thread(
            target=_watch_memory, args=(baseline,), name="microasgi-memory", daemon=True
        ).start()
    return True


def resident_memory() -> int | None:
    """The process's resident memory in bytes (Linux's ``/proc``), or ``None`` where unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def collect_and_release() -> None:
    """A full collection, then the freed memory handed back to the system where possible."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _watch_memory(baseline: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL)
        now = resident_memory()
        if now is None:
            return
        if now - baseline > max(GROWTH_FLOOR, baseline * GROWTH_FRACTION):
            collect_and_release()
            baseline = resident_memory() or now
        elif now < baseline:
            baseline = now


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # glibc's malloc keeps freed memory for reuse; malloc_trim gives it back.
    # Other C libraries (musl, macOS) have no such call: nothing to do there.
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
