"""The apps benchmarks/attacks.py serves under uvicorn and attacks (memory under hostile clients).

``microasgi`` (with ``GC_TUNING`` from ``MICROASGI_ATTACK_GC_TUNING``, 1 or 0)
and ``starlette`` each have a websocket that answers every message with its
length, and a WSGI app mounted at ``/legacy`` that reads the whole upload.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from microasgi import MicroASGI, WSGIApp, websocket


def legacy(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d" % len(body)]


app = MicroASGI(__name__)
app.config["GC_TUNING"] = os.environ.get("MICROASGI_ATTACK_GC_TUNING", "1") == "1"
app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024


@app.websocket("/ws")
async def lengths() -> None:
    while True:
        message = await websocket.receive()
        await websocket.send(str(len(message)))


@app.get("/")
async def index() -> str:
    return "ok"


app.mount("/legacy", WSGIApp(legacy))


async def _starlette_lengths(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            message = await ws.receive_text()
            await ws.send_text(str(len(message)))
    except WebSocketDisconnect:
        pass


starlette = Starlette(
    routes=[
        WebSocketRoute("/ws", _starlette_lengths),
        Mount("/legacy", WSGIMiddleware(legacy)),
    ]
)
