"""Websockets from a test: the async connection, and the sync client's blocking one."""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request as BaseRequest

from ..typing import ASGIApp, Message, Scope
from ..websockets import TypedMessages, WebsocketDisconnect, message_data


class WebsocketDenied(Exception):
    """The app refused the websocket handshake; ``response`` is the HTTP answer."""

    def __init__(self, response: TestResponse) -> None:
        super().__init__(f"websocket refused with {response.status}")
        self.response = response


class WebsocketConnection(TypedMessages):
    """A websocket to the app, from a test: the async API (``await ws.send_text(...)``)."""

    def __init__(self) -> None:
        self._to_app_send, self._to_app = anyio.create_memory_object_stream[Message](64)
        self._from_app_send, self._from_app = anyio.create_memory_object_stream[Message](64)
        self.accepted_subprotocol: str | None = None
        self.closed = False

    async def _run(self, app: ASGIApp, scope: Scope) -> BaseException | None:
        try:
            await app(scope, self._to_app.receive, self._from_app_send.send)
        except Exception as exc:  # re-raised in the test, where it belongs
            return exc
        finally:
            self._from_app_send.close()
        return None

    async def _next(self) -> Message:
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            return {"type": "websocket.close", "code": 1006}

    async def _handshake(self, request: BaseRequest) -> None:
        await self._to_app_send.send({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            return
        self.closed = True
        status, headers, body = 403, Headers(), []
        if message["type"] == "websocket.http.response.start":
            status = message["status"]
            headers = Headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
            )
            while (part := await self._next())["type"] == "websocket.http.response.body":
                body.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
        raise WebsocketDenied(TestResponse([b"".join(body)], str(status), headers, request))

    async def send(self, data: str | bytes) -> None:
        """Send a text or bytes message to the app."""
        key = "text" if isinstance(data, str) else "bytes"
        await self._to_app_send.send({"type": "websocket.receive", key: data})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message to the app."""
        await self.send(jsonlib.dumps(data))

    async def receive(self) -> str | bytes:
        """The app's next message; :class:`WebsocketDisconnect` once it closed the socket."""
        message = await self._next()
        if message["type"] == "websocket.close":
            self.closed = True
            raise WebsocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message_data(message)

    async def close(self, code: int = 1000) -> None:
        """Close from the client side (the app's receive raises WebsocketDisconnect)."""
        if not self.closed:
            self.closed = True
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await self._to_app_send.send({"type": "websocket.disconnect", "code": code})


@asynccontextmanager
async def open_websocket(
    app: ASGIApp,
    http_scope: Scope,
    request: BaseRequest,
    subprotocols: list[str] | None,
) -> AsyncIterator[WebsocketConnection]:
    scope = dict(http_scope)
    scope.update(
        type="websocket", scheme="wss" if scope["scheme"] == "https" else "ws",
        subprotocols=list(subprotocols or ()), extensions={"websocket.http.response": {}},
    )  # fmt: skip
    for key in ("method", "http_version"):
        scope.pop(key, None)
    conn = WebsocketConnection()
    # As in run_lifespan: errors are raised once the task group has exited,
    # so the test sees them bare rather than inside an ExceptionGroup.
    body_error: BaseException | None = None
    app_error: list[BaseException | None] = [None]

    async def run() -> None:
        app_error[0] = await conn._run(app, scope)

    streams = (conn._to_app_send, conn._to_app, conn._from_app_send, conn._from_app)
    async with (
        streams[0],
        streams[1],
        streams[2],
        streams[3],
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(run)
        try:
            await conn._handshake(request)
            yield conn
        except BaseException as exc:
            body_error = exc
        await conn.close()
        with anyio.move_on_after(5):
            # Let the handler see the disconnect and finish.
            while (await conn._next())["type"] != "websocket.close":
                pass
        tg.cancel_scope.cancel()
    if app_error[0] is not None:
        raise app_error[0]
    if body_error is not None:
        raise body_error


class WebsocketSession:
    """The sync client's websocket: the :class:`WebsocketConnection` API, not awaited."""

    def __init__(self, portal: BlockingPortal, conn: WebsocketConnection) -> None:
        self._portal = portal
        self._conn = conn

    @property
    def accepted_subprotocol(self) -> str | None:
        """The subprotocol the app accepted, or ``None``."""
        return self._conn.accepted_subprotocol

    def send(self, data: str | bytes) -> None:
        """Send a text or bytes message to the app."""
        self._portal.call(self._conn.send, data)

    def send_text(self, data: str) -> None:
        """Send a text message to the app."""
        self._portal.call(self._conn.send_text, data)

    def send_bytes(self, data: bytes) -> None:
        """Send a bytes message to the app."""
        self._portal.call(self._conn.send_bytes, data)

    def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message to the app."""
        self._portal.call(self._conn.send_json, data)

    def receive(self) -> str | bytes:
        """The app's next message; ``WebsocketDisconnect`` once it closed the socket."""
        return self._portal.call(self._conn.receive)

    def receive_text(self) -> str:
        """The app's next message as text (a bytes message is decoded as UTF-8)."""
        return self._portal.call(self._conn.receive_text)

    def receive_bytes(self) -> bytes:
        """The app's next message as bytes (a text message is encoded as UTF-8)."""
        return self._portal.call(self._conn.receive_bytes)

    def receive_json(self) -> Any:
        """The app's next message parsed as JSON."""
        return self._portal.call(self._conn.receive_json)

    def close(self, code: int = 1000) -> None:
        """Close from the client side (the app's receive raises ``WebsocketDisconnect``)."""
        self._portal.call(self._conn.close, code)
