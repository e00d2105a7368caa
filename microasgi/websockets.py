"""The websocket object: what ``websocket`` is inside a ``@app.websocket`` handler.

::

    @app.websocket("/echo")
    async def echo():
        while True:
            message = await websocket.receive()
            await websocket.send(f"echo: {message}")

The handshake is accepted on the first send or receive (or explicitly with
:meth:`Websocket.accept`). A handler that ends closes the socket with 1000;
one that raises closes it with 1011. Before accepting, a handler may refuse
the connection by returning a response or raising an HTTP error
(``abort(403)``): the client gets that HTTP response where the server
supports the ASGI websocket denial extension, else a plain refusal (403).
When the client goes away, :meth:`receive` raises :class:`WebsocketDisconnect`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.datastructures import Headers, ImmutableMultiDict

from .forms import parse_query
from .globals import _cv_app
from .sansio.blueprints import blueprint_chain
from .typing import Message, Receive, Scope, Send
from .wrappers.request import (
    _clean_text,
    connection_host,
    parse_cookies,
    request_headers,
    strip_root_path,
)

if TYPE_CHECKING:
    from .exceptions import HTTPException
    from .routing import Rule
    from .wrappers.response import Response


class WebsocketDisconnect(Exception):
    """The client closed the websocket (``code`` is its close code)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


def message_data(message: Message) -> str | bytes:
    """A ``websocket.receive`` or ``websocket.send`` message's text, or else its bytes."""
    text = message.get("text")
    return text if text is not None else message.get("bytes", b"")  # type: ignore[no-any-return]


class TypedMessages:
    """``receive_text``... and ``send_text``... on top of ``receive`` and ``send``.

    Shared by :class:`Websocket` (the app's side) and the test client's
    websocket (the client's side).
    """

    async def receive(self) -> str | bytes:
        """The next message, text or bytes; subclasses provide it."""
        raise NotImplementedError

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message; subclasses provide it."""
        raise NotImplementedError

    async def receive_text(self) -> str:
        """The next message as text (a bytes message is decoded as UTF-8)."""
        data = await self.receive()
        return data.decode() if isinstance(data, bytes) else data

    async def receive_bytes(self) -> bytes:
        """The next message as bytes (a text message is encoded as UTF-8)."""
        data = await self.receive()
        return data.encode() if isinstance(data, str) else data

    async def receive_json(self) -> Any:
        """The next message parsed as JSON."""
        return json.loads(await self.receive())

    async def send_text(self, data: str) -> None:
        """Send ``data`` as a text message."""
        await self.send(str(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send ``data`` as a binary message."""
        await self.send(bytes(data))


class Websocket(TypedMessages):
    """A websocket connection, with the request's names (``path``, ``args``, ``headers``)."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path:
            path = strip_root_path(path, root_path)
        self.root_path = root_path
        self.path = path if path.isascii() else _clean_text(path)
        self.method = "GET"
        self.url_rule: Rule | None = None
        self.view_args: dict[str, Any] | None = None
        self.routing_exception: HTTPException | None = None
        self._blueprints: tuple[str, ...] | None = None
        self._connected = False
        #: Whether the handshake was accepted.
        self.accepted = False
        #: Whether the socket is closed (by either side).
        self.closed = False

    # -- the request's names ---------------------------------------------------

    @cached_property
    def headers(self) -> Headers:
        """The handshake request's headers."""
        return request_headers(self.scope["headers"])

    @property
    def query_string(self) -> bytes:
        """The handshake URL's query string, as sent."""
        return self.scope.get("query_string", b"")  # type: ignore[no-any-return]

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        """The query string of the handshake URL."""
        ctx = _cv_app.get(None)
        limit = ctx.app.config["MAX_QUERY_FIELDS"] if ctx is not None else None
        return parse_query(self.query_string, limit)

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """Cookies sent with the handshake request (the first of a repeated name wins)."""
        return parse_cookies(self.headers.get("cookie"))

    @property
    def scheme(self) -> str:
        """``ws`` or ``wss`` (``ws`` when the server does not say)."""
        return self.scope.get("scheme", "ws")  # type: ignore[no-any-return]

    @property
    def host(self) -> str:
        """The ``Host`` header, or the server address when it is missing (as a request's)."""
        return connection_host(self.headers.get("host"), self.scope, self.scheme == "wss")

    @property
    def url(self) -> str:
        """The full URL, with the query string (``ws://host/path?q=x``)."""
        query = self.query_string.decode("latin-1")
        url = f"{self.scheme}://{self.host}{quote(self.root_path + self.path)}"
        return f"{url}?{query}" if query else url

    @property
    def remote_addr(self) -> str | None:
        """The client's address as the server saw it (``None`` if unknown)."""
        client = self.scope.get("client")
        return client[0] if client else None

    @property
    def requested_subprotocols(self) -> list[str]:
        """Subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    @property
    def endpoint(self) -> str | None:
        """The matched rule's endpoint, or ``None``."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprints(self) -> list[str]:
        """Names of the blueprints handling this websocket, innermost first."""
        names = self._blueprints if self._blueprints is not None else blueprint_chain(self.endpoint)
        return list(names)

    @property
    def blueprint(self) -> str | None:
        """The (dotted) name of the innermost blueprint handling this websocket, if any."""
        names = self.blueprints
        return names[0] if names else None

    # -- the connection --------------------------------------------------------

    async def _connect(self) -> None:
        if not self._connected:
            message = await self._receive()
            self._connected = True
            if message["type"] == "websocket.disconnect":
                self.closed = True
                raise WebsocketDisconnect(message.get("code", 1000))

    async def _send_message(self, message: Message) -> None:
        try:
            await self._send(message)
        except OSError:
            # ASGI 2.4: send raises once the client is gone.
            self.closed = True
            raise WebsocketDisconnect(1006) from None

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        """Accept the handshake (done for you by the first send or receive)."""
        if self.accepted:
            return
        await self._connect()
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = [(k.lower().encode(), v.encode()) for k, v in headers]
        await self._send_message(message)
        self.accepted = True

    async def receive(self) -> str | bytes:
        """The next message (text or bytes); raises :class:`WebsocketDisconnect` when closed."""
        await self.accept()
        if self.closed:
            raise WebsocketDisconnect(1000)
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebsocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message_data(message)

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        await self.accept()
        if isinstance(data, str):
            await self._send_message({"type": "websocket.send", "text": data})
        else:
            await self._send_message({"type": "websocket.send", "bytes": bytes(data)})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message (with the app's JSON provider)."""
        ctx = _cv_app.get(None)
        text = ctx.app.json.dumps(data) if ctx is not None else json.dumps(data)
        await self.send(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket (before accepting, this refuses the handshake)."""
        if self.closed:
            return
        await self._connect()
        self.closed = True
        with suppress(OSError):  # already gone
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str | bytes]:
        try:
            while True:
                yield await self.receive()
        except WebsocketDisconnect:
            return

    async def _deny(self, response: Response) -> None:
        """Refuse the handshake with an HTTP response, if the server can send one."""
        await self._connect()
        self.closed = True
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            await self._send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        body = response.get_data() if not response.is_streamed else b""
        headers = [pair for pair in response._raw_headers() if pair[0] != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

    def __repr__(self) -> str:
        return f"<Websocket {self.url!r}>"
