"""The app tests/test_servers.py serves under uvicorn, hypercorn (on asyncio and on
trio), granian, gunicorn and ``microasgi run``.

Every HTTP response carries the answering process in ``X-Worker-Pid``, and
``after_serving`` appends ``after_serving <pid>`` to the file named by
``MATRIX_SHUTDOWN_FILE``, so a test can check that every worker that answered
also shut down cleanly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import sniffio

from microasgi import MicroASGI, Response, WSGIApp, request, websocket

app = MicroASGI(__name__)

# Per process (each worker imports this module anew).
STATE = {"lifespan_scope": False, "before_serving": False, "via_lifespan": False}


def _see_lifespan(inner: Any) -> Any:
    """ASGI middleware noting that the server sent a lifespan scope: ``before_serving``
    also runs on the first request when none arrives, so it alone proves nothing."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            STATE["lifespan_scope"] = True
        await inner(scope, receive, send)

    return asgi


app.asgi_app = _see_lifespan(app.asgi_app)


@app.before_serving
async def started() -> None:
    STATE["before_serving"] = True
    STATE["via_lifespan"] = STATE["lifespan_scope"]


@app.after_serving
def stopped() -> None:
    marker = os.environ.get("MATRIX_SHUTDOWN_FILE")
    if marker:
        # Append: with several workers each one adds its own line.
        with open(marker, "a") as f:
            f.write(f"after_serving {os.getpid()}\n")


@app.after_request
def tag_worker(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


@app.get("/")
async def plaintext() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@app.post("/json")
def json_echo() -> dict[str, object]:
    return {"echo": request.get_json()}


@app.get("/stream")
async def stream() -> AsyncIterator[str]:
    async def chunks() -> AsyncIterator[str]:
        for i in range(5):
            yield f"chunk {i}\n"
            await anyio.sleep(0.01)

    return chunks()


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/lifespan")
async def lifespan() -> dict[str, object]:
    return {**STATE, "pid": os.getpid()}


@app.websocket("/ws")
async def echo_ws() -> None:
    # Explicit accept works whether or not receive/send would accept implicitly.
    await websocket.accept()
    while (text := await websocket.receive_text()) != "bye":
        await websocket.send_text(f"echo {text}")
    await websocket.send_text("bye")
    await websocket.close(1000)


@app.get("/loop")
async def loop() -> dict[str, str]:
    """The event loop library serving: ``trio`` under ``hypercorn --worker-class trio``."""
    return {"async": sniffio.current_async_library()}


@app.post("/upload/async", stream=True)
async def upload_async() -> dict[str, int]:
    size = 0
    async for chunk in request.stream:
        size += len(chunk)
    return {"size": size}


@app.post("/upload/sync", stream=True)
def upload_sync() -> dict[str, object]:
    size = 0
    while chunk := request.stream.read(65536):
        size += len(chunk)
    return {"size": size, "thread": threading.current_thread().name}


def _legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    pid = ("X-Worker-Pid", str(os.getpid()))  # as after_request adds to the app's own
    start_response("200 OK", [("Content-Type", "text/plain"), pid])
    return [f"wsgi read {len(body)} bytes".encode()]


app.mount("/legacy", WSGIApp(_legacy))
