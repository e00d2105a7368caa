"""The app the real-server tests run under uvicorn (see tests/test_server.py)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio

from microasgi import MicroASGI, WSGIApp, abort, request, websocket

app = MicroASGI(__name__)
STATE: dict[str, int] = {"started": 0, "async_closed": 0, "sync_closed": 0}


@app.before_serving
async def started() -> None:
    STATE["started"] += 1


@app.after_serving
def stopped() -> None:
    marker = os.environ.get("MICROASGI_TEST_SHUTDOWN_FILE")
    if marker:
        with open(marker, "w") as f:
            f.write("after_serving ran")


@app.get("/")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/state")
async def state() -> dict[str, int]:
    return STATE


@app.post("/echo")
def echo() -> dict[str, object]:
    return {"json": request.get_json(), "thread": "sync"}


@app.get("/stream/<int:count>")
async def stream(count: int) -> AsyncIterator[str]:
    async def numbers() -> AsyncIterator[str]:
        for i in range(count):
            yield f"{i}\n"
            await anyio.sleep(0.01)

    return numbers()


@app.get("/forever/async")
async def forever_async() -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
                await anyio.sleep(0.01)
        finally:
            STATE["async_closed"] += 1

    return chunks()


@app.get("/forever/sync")
def forever_sync() -> Iterator[bytes]:
    def chunks() -> Iterator[bytes]:
        try:
            while True:
                yield b"y" * 1024
                time.sleep(0.01)
        finally:
            STATE["sync_closed"] += 1

    return chunks()


@app.get("/slow")
async def slow() -> str:
    await anyio.sleep(float(request.args.get("seconds", "1")))
    return "finished"


@app.websocket("/ws/echo")
async def ws_echo() -> None:
    async for message in websocket:
        await websocket.send(f"echo: {message}" if isinstance(message, str) else message)


@app.websocket("/ws/private")
async def private() -> None:
    abort(403, "Members only.")


@app.get("/fails-mid-stream")
def fails_mid_stream() -> Iterator[bytes]:
    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("the body failed half way")

    return chunks()


def _wsgi_fails_mid_stream(environ: dict[str, object], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial"
    raise RuntimeError("the WSGI body failed half way")


app.mount("/wsgi", WSGIApp(_wsgi_fails_mid_stream))

broken = MicroASGI("broken")


@broken.before_serving
def refuse() -> None:
    raise RuntimeError("database unreachable")
