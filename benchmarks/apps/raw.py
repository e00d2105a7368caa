"""The upper bound: a hand-written ASGI app, a dict lookup and no framework.

It has no synchronous views (``/sync`` is not applicable) and no router (the
routing scenarios are not applicable). ``/static/1mb.bin`` is the least a
non-blocking file response can do: the server's ``pathsend`` extension where
offered (granian), else one read of the whole file in the loop's default
executor and one body message.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any

from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, STATIC_NAME, jinja_env, static_dir

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_HTML = [(b"content-type", b"text/html; charset=utf-8")]
_BINARY = [(b"content-type", b"application/octet-stream")]
_TEMPLATE = jinja_env().get_template(FORTUNE_TEMPLATE)
_STATIC = pathlib.Path(static_dir()) / STATIC_NAME
_NOT_FOUND = b"Not Found"


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _static(scope: Scope, send: Send) -> None:
    if "http.response.pathsend" in scope.get("extensions", {}):
        size = str(_STATIC.stat().st_size).encode()
        headers = [*_BINARY, (b"content-length", size)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": str(_STATIC)})
        return
    body = await asyncio.get_running_loop().run_in_executor(None, _STATIC.read_bytes)
    await _respond(send, 200, _BINARY, body)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _websocket(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
        else:
            return


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind != "http":
        if kind == "websocket" and scope["path"] == "/ws":
            await _websocket(receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        else:
            await send({"type": "websocket.close", "code": 1000})
        return
    path: str = scope["path"]
    method: str = scope["method"]
    if method == "GET":
        if path == "/plaintext":
            return await _respond(send, 200, _TEXT, HELLO.encode())
        if path == "/json":
            return await _respond(send, 200, _JSON, json.dumps(MESSAGE).encode())
        if path == "/fortunes":
            html = _TEMPLATE.render(fortunes=FORTUNES).encode()
            return await _respond(send, 200, _HTML, html)
        if path == "/static/" + STATIC_NAME:
            return await _static(scope, send)
        if path.startswith("/users/"):
            user_id = path[len("/users/") :]
            if user_id.isdigit():
                return await _respond(send, 200, _TEXT, str(int(user_id)).encode())
    elif method == "POST" and path == "/echo":
        payload = json.loads(await _read_body(receive))
        return await _respond(send, 200, _JSON, json.dumps(payload).encode())
    await _respond(send, 404, _TEXT, _NOT_FOUND)
