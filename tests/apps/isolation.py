"""The app tests/test_isolation_load.py serves under uvicorn and loads concurrently.

Every request carries a unique id twice: ``?id=`` and the ``X-Request-Id``
header. A ``before_request`` hook copies the header into ``g.rid``. Each view
answers what *it* sees of that id through ``request.args``,
``request.headers`` and ``g`` (plus the client's ``session["user"]``, and
whether ``g`` was empty when the request began), read at
several points with small random pauses in between, so that concurrent
requests interleave and a context leaking between them would show up as a
mismatched id:

- ``/async``: an ``async def`` view (and a task it spawns);
- ``/sync``: a ``def`` view (a worker thread of the bridge);
- ``/stream/async``, ``/stream/sync``: generators read the context locals on
  every chunk while the response streams (one JSON object per line);
- ``/session/set`` stores ``?value=`` in the session, ``/session/get`` reads
  it back (the test checks each simulated user sees only its own value);
- ``/wsgi/echo``: a tiny Flask app behind ``WSGIApp``, with its own
  ``before_request`` and ``g``.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import flask

from microasgi import MicroASGI, WSGIApp, g, request, session

app = MicroASGI(__name__)
app.config.update(SECRET_KEY="isolation load test")

CHUNKS = 4
# Pauses are short (< 2 ms) but long enough for other requests to run between
# two reads of the context locals.
MAX_PAUSE = 0.002


def _pause() -> float:
    return random.random() * MAX_PAUSE


def seen() -> dict[str, Any]:
    """The request id as this request sees it, through each context local."""
    return {
        "args": request.args.get("id"),
        "header": request.headers.get("x-request-id"),
        "g": getattr(g, "rid", None),
        "g_was_empty": g.get("was_empty"),
        "user": session.get("user"),
    }


@app.before_request
def remember_id() -> None:
    # A fresh request starts with an empty g: anything in it leaked from another.
    g.was_empty = not list(g)
    g.rid = request.headers.get("x-request-id")


@app.get("/async")
async def async_view() -> dict[str, Any]:
    first = seen()
    await anyio.sleep(_pause())
    spawned: dict[str, Any] = {}

    async def child() -> None:
        await anyio.sleep(_pause())
        spawned.update(seen())

    async with anyio.create_task_group() as tg:
        tg.start_soon(child)
    await anyio.sleep(_pause())
    return {"kind": "async", "seen": [first, spawned, seen()]}


@app.get("/sync")
def sync_view() -> dict[str, Any]:
    first = seen()
    time.sleep(_pause())
    return {"kind": "sync", "seen": [first, seen()]}


@app.get("/stream/async")
async def stream_async() -> AsyncIterator[str]:
    async def lines() -> AsyncIterator[str]:
        for _ in range(CHUNKS):
            await anyio.sleep(_pause())
            yield flask.json.dumps({"kind": "stream-async", "seen": [seen()]}) + "\n"

    return lines()


@app.get("/stream/sync")
def stream_sync() -> Iterator[str]:
    def lines() -> Iterator[str]:
        for _ in range(CHUNKS):
            time.sleep(_pause())
            yield flask.json.dumps({"kind": "stream-sync", "seen": [seen()]}) + "\n"

    return lines()


@app.post("/session/set")
async def session_set() -> dict[str, Any]:
    first = seen()
    session["user"] = request.args["value"]
    await anyio.sleep(_pause())
    return {"kind": "session-set", "seen": [first, seen()]}


@app.get("/session/get")
def session_get() -> dict[str, Any]:
    first = seen()
    time.sleep(_pause())
    return {"kind": "session-get", "seen": [first, seen()]}


legacy = flask.Flask(__name__)


@legacy.before_request
def legacy_remember_id() -> None:
    flask.g.was_empty = not list(flask.g)
    flask.g.rid = flask.request.headers.get("x-request-id")


@legacy.get("/echo")
def legacy_echo() -> dict[str, Any]:
    def legacy_seen() -> dict[str, Any]:
        return {
            "args": flask.request.args.get("id"),
            "header": flask.request.headers.get("x-request-id"),
            "g": getattr(flask.g, "rid", None),
            "g_was_empty": flask.g.get("was_empty"),
            "script_name": flask.request.script_root,
        }

    first = legacy_seen()
    time.sleep(_pause())
    return {"kind": "wsgi", "seen": [first, legacy_seen()]}


app.mount("/wsgi", WSGIApp(legacy))
