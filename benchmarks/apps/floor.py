"""The floor of any framework: the least a request path with a request object can do.

Not a framework and not a peer to pick: a reference row between ``raw`` and the
frameworks. Per request it does what every framework here does at the least, and
nothing else: look the path up in a dict of routes, build a request object and
make it the current one in a context variable (so a view can reach it, as
Flask's ``request`` and Starlette's ``Request`` do), await the view, build a
response object from what it returns, send it as two ASGI messages, reset the
context variable. No hooks, no error handling, no header checks, no HEAD or
status rules. Only ``/plaintext``, ``/json`` and ``/users/<int>``. At startup it
tunes the garbage collector as microasgi does (``GC_TUNING``), else its young
collections would show in its p99.

It tells what the bar "under uvicorn, at least 0.95 times raw" asks: a
framework can be as fast as this at best.
"""

from __future__ import annotations

import contextvars
import gc
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ._common import HELLO, MESSAGE

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
View = Callable[..., Awaitable[Any]]

_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"


class Request:
    __slots__ = ("receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive


class Response:
    __slots__ = ("body", "content_type", "status")

    def __init__(self, value: Any, status: int = 200) -> None:
        if value.__class__ is dict:
            self.body = json.dumps(value).encode()
            self.content_type = _JSON
        else:
            self.body = value.encode()
            self.content_type = _TEXT
        self.status = status

    async def __call__(self, send: Send) -> None:
        length = b"%d" % len(self.body)
        headers = [(b"content-type", self.content_type), (b"content-length", length)]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


current_request: contextvars.ContextVar[Request] = contextvars.ContextVar("current_request")


async def plaintext() -> Any:
    return HELLO


async def json_view() -> Any:
    return MESSAGE


async def user(user_id: int) -> Any:
    return str(user_id)


_ROUTES: dict[str, View] = {"/plaintext": plaintext, "/json": json_view}
_USERS = "/users/"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    token = current_request.set(Request(scope, receive))
    try:
        path: str = scope["path"]
        view = _ROUTES.get(path)
        if view is not None:
            response = Response(await view())
        elif path.startswith(_USERS) and path[len(_USERS) :].isdigit():
            response = Response(await user(int(path[len(_USERS) :])))
        else:
            response = Response("Not Found", 404)
        await response(send)
    finally:
        current_request.reset(token)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            gc.freeze()
            gc.set_threshold(10_000, *gc.get_threshold()[1:])
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
