"""The app benchmarks/soak.py keeps under load (``uvicorn benchmarks.soak_app:app``).

Four endpoints, each on a different path through the framework:

- ``/plaintext``: an async view returning a string and headers (the hot path);
- ``/json``: an async view returning a dict (JSON encoding);
- ``/sync``: a ``def`` view, run in a worker thread of the bridge, that also
  reads ``request.args`` and ``g`` (set by a ``before_request`` hook);
- ``/session``: opens the signed session cookie the client sends, increments a
  counter in it and signs a new cookie on every request.
"""

from __future__ import annotations

from typing import Any

from microasgi import MicroASGI, g, request, session

app = MicroASGI(__name__, static_folder=None)
app.config.update(SECRET_KEY="soak test key (not a secret)")
# Tuned as under `microasgi run`, which this harness stands in for (uvicorn directly).
app.config["GC_TUNING"] = True

_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.before_request
def mark() -> None:
    # Only the sync view reads it, but every request pays for the hook (and
    # stores something in g that must not outlive the request).
    g.marker = request.path


@app.get("/plaintext")
async def plaintext() -> Any:
    return "Hello, World!", _TEXT


@app.get("/json")
async def json_view() -> Any:
    return {"message": "Hello, World!"}


@app.get("/sync")
def sync() -> Any:
    return f"sync {request.args.get('n', '0')} {g.marker}", _TEXT


@app.get("/session")
async def counter() -> Any:
    session["n"] = session.get("n", 0) + 1
    return {"n": session["n"]}
