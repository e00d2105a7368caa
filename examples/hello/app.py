"""The hello example: routes, JSON, path parameters, a sync and an async view.

Run it with ``make run`` (or ``microasgi --app examples.hello.app:app run``).
"""

from __future__ import annotations

import time

import anyio

from microasgi import MicroASGI, abort, request, url_for

app = MicroASGI(__name__)

GREETINGS: dict[int, str] = {1: "Hello", 2: "Bonjour", 3: "Hola"}


@app.get("/")
async def index() -> str:
    """Async view: runs on the event loop."""
    return (
        "<h1>Hello from microasgi</h1>"
        f'<p>Try <a href="{url_for("greeting", greeting_id=2)}">a greeting</a>, '
        f'<a href="{url_for("slow_sync")}">a sync view</a> or '
        f'<a href="{url_for("stream")}">a streamed response</a>.</p>'
    )


@app.get("/greetings/<int:greeting_id>")
async def greeting(greeting_id: int) -> dict[str, object]:
    """Path parameter converted to int; a dict becomes JSON."""
    if greeting_id not in GREETINGS:
        abort(404, f"No greeting {greeting_id}.")
    return {"id": greeting_id, "text": GREETINGS[greeting_id]}


@app.post("/greetings")
async def add_greeting() -> tuple[dict[str, object], int]:
    """JSON body, already read: ``request.get_json()`` is a plain call."""
    data = request.get_json()
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        abort(400, "Send a JSON object with a 'text' string.")
    new_id = max(GREETINGS) + 1
    GREETINGS[new_id] = data["text"]
    return {"id": new_id, "text": data["text"]}, 201


@app.get("/sync")
def slow_sync() -> dict[str, object]:
    """Sync view: runs in a worker thread, so blocking here does not stall the server."""
    time.sleep(0.01)
    return {"kind": "sync", "name": request.args.get("name", "world")}


@app.get("/stream")
async def stream():  # type: ignore[no-untyped-def]
    """An async generator is streamed chunk by chunk."""

    async def numbers():  # type: ignore[no-untyped-def]
        for i in range(5):
            yield f"{i}\n"
            await anyio.sleep(0.01)

    return numbers()
