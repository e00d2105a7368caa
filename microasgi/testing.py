"""Test clients: Flask's synchronous one, an async twin, and the CLI runner.

Both clients are httpx clients whose transport calls the app's ASGI interface
directly (no sockets). They share one async core, :func:`_call_app`; the sync
client runs it on an event loop in a background thread through an anyio
blocking portal. Requests are written the Flask way::

    client = app.test_client()
    response = client.post("/items", json={"name": "x"}, headers={"X-Id": "1"})
    assert response.status_code == 201
    assert response.json == {"id": 1}

``with client:`` runs the app's lifespan (``before_serving``/``after_serving``)
and keeps the last request's context afterwards, so ``request``, ``session``
and ``g`` can be inspected after a request, as with Flask's client.
"""

from __future__ import annotations

import json as jsonlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from contextvars import Token
from dataclasses import dataclass
from types import SimpleNamespace, TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, cast, overload
from urllib.parse import unquote, urlencode, urlsplit

import anyio
import click
import click.testing
import httpx
from anyio.from_thread import BlockingPortal
from werkzeug.datastructures import Headers

from .cli.discovery import ScriptInfo
from .globals import _cv_app
from .lifespan import run_lifespan
from .typing import ASGIApp, Message, Scope
from .websockets import TypedMessages, WebsocketDisconnect, message_data
from .wrappers.response import _status_line

if TYPE_CHECKING:
    from .app import MicroASGI
    from .ctx import AppContext
    from .sessions import SessionMixin


__all__ = [
    "AsyncTestClient",
    "CliRunner",
    "Cookie",
    "TestClient",
    "TestResponse",
    "WebsocketConnection",
    "WebsocketDenied",
    "WebsocketSession",
    "build_scope",
]

_DEFAULT_BASE_URL = "http://localhost"


# -- building requests ----------------------------------------------------------


def _is_file(value: Any) -> bool:
    return hasattr(value, "read") or (
        isinstance(value, tuple) and len(value) >= 2 and hasattr(value[0], "read")
    )


def _as_httpx_file(value: Any) -> Any:
    # Flask's test client takes (file, filename[, content_type]); httpx wants
    # (filename, file[, content_type]).
    if isinstance(value, tuple):
        fileobj, filename, *rest = value
        return (filename, fileobj, *rest)
    return (getattr(value, "name", "file"), value)


def _request_kwargs(
    app: MicroASGI,
    *,
    query_string: Mapping[str, Any] | str | bytes | None = None,
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    data: Mapping[str, Any] | str | bytes | IO[bytes] | None = None,
    json: Any = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """Flask test-client arguments -> httpx request arguments."""
    header_list = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    kwargs: dict[str, Any] = {}
    if query_string is not None:
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        if not isinstance(query_string, str):
            query_string = urlencode(list(_multi_items(query_string)))
        kwargs["params"] = httpx.QueryParams(query_string)
    if json is not None:
        if data is not None:
            raise TypeError("Give either 'data' or 'json', not both.")
        kwargs["content"] = app.json.dumps(json).encode()
        content_type = content_type or "application/json"
    elif isinstance(data, Mapping):
        fields = list(_multi_items(data))
        files = [(k, _as_httpx_file(v)) for k, v in fields if _is_file(v)]
        form = [(k, str(v)) for k, v in fields if not _is_file(v)]
        if files:
            kwargs["files"] = files
            kwargs["data"] = dict(form) if len({k for k, _ in form}) == len(form) else form
        else:
            kwargs["content"] = urlencode(form).encode()
            content_type = content_type or "application/x-www-form-urlencoded"
    elif isinstance(data, str):
        kwargs["content"] = data.encode()
    elif isinstance(data, bytes | bytearray):
        kwargs["content"] = bytes(data)
    elif data is not None:
        kwargs["content"] = data.read()
    if content_type is not None:
        header_list = [(k, v) for k, v in header_list if k.lower() != "content-type"]
        header_list.append(("Content-Type", content_type))
    kwargs["headers"] = header_list
    return kwargs


def _multi_items(mapping: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    items = mapping.multi_items() if hasattr(mapping, "multi_items") else mapping.items()
    for key, value in items:
        if isinstance(value, list):
            for item in value:
                yield key, item
        else:
            yield key, value


def _root_path(base_url: str) -> str:
    # ASGI's root_path is decoded, like path.
    return unquote(urlsplit(base_url).path).rstrip("/")


def _scope(request: httpx.Request, root_path: str) -> Scope:
    url = request.url
    default_port = 443 if url.scheme == "https" else 80
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(url.raw_path.split(b"?", 1)[0].decode("ascii")),
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": root_path,
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "client": ("127.0.0.1", 50000),
        "server": (url.host, url.port or default_port),
        "extensions": {},
        "state": {},
    }


def build_scope(
    app: MicroASGI,
    path: str = "/",
    base_url: str | None = None,
    method: str = "GET",
    **kwargs: Any,
) -> tuple[Scope, bytes]:
    """An ASGI scope and body for a made-up request (``app.test_request_context``)."""
    base_url = base_url or _DEFAULT_BASE_URL
    request = httpx.Request(
        method.upper(),
        base_url.rstrip("/") + "/" + path.lstrip("/"),
        **_request_kwargs(app, **kwargs),
    )
    return _scope(request, _root_path(base_url)), request.read()


# -- the shared async core ------------------------------------------------------------

_Preserve = Callable[["AppContext", "BaseException | None"], None]


async def _call_app(
    app: ASGIApp, request: httpx.Request, body: bytes, root_path: str, preserve: _Preserve | None
) -> httpx.Response:
    """Send one request through the ASGI interface and collect the whole response."""
    scope = _scope(request, root_path)
    if preserve is not None:
        scope["extensions"]["microasgi.preserve_context"] = preserve
    done = anyio.Event()
    sent_body = False
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    if status is None:
        raise RuntimeError("The app finished without sending a response.")
    return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


# -- responses --------------------------------------------------------------------------


class TestResponse:
    """A response as Flask's test client gives it: ``status_code``, ``data``, ``json``..."""

    __test__ = False  # not a pytest test class

    def __init__(self, response: httpx.Response, history: list[TestResponse] | None = None) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = Headers(
            [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.headers.raw
            ]
        )
        self.data: bytes = response.content
        self.history = history or []
        url = response.request.url
        self.request = SimpleNamespace(
            method=response.request.method, url=str(url), path=unquote(url.path),
            headers=response.request.headers,
        )  # fmt: skip

    @property
    def status(self) -> str:
        """``"200 OK"``."""
        return _status_line(self.status_code)

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...
    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...
    @overload
    def get_data(self, as_text: bool = False) -> bytes | str: ...
    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body as bytes, or as text (UTF-8) with ``as_text=True``."""
        return self.data.decode() if as_text else self.data

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 text."""
        return self.data.decode()

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters, lower-cased (``None`` without the header)."""
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, or ``None`` if missing."""
        return self.headers.get("content-type")

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an int (``None`` if missing or not a number)."""
        return self.headers.get("content-length", type=int)

    @property
    def location(self) -> str | None:
        """The ``Location`` header as sent, or ``None`` if missing."""
        return self.headers.get("location")

    @property
    def is_json(self) -> bool:
        """Whether the content type is JSON (``application/json`` or any ``+json`` type)."""
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or mimetype.endswith("+json")

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """The body parsed as JSON; ``None`` if it is not JSON (unless ``force``)."""
        if not (force or self.is_json):
            return None
        try:
            return self._response.json()
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON (:meth:`get_json`)."""
        return self.get_json()

    def __repr__(self) -> str:
        return f"<TestResponse {len(self.data)} bytes [{self.status}]>"


def _wrap(response: httpx.Response) -> TestResponse:
    history = [TestResponse(r) for r in response.history]
    return TestResponse(response, history)


# -- the clients -------------------------------------------------------------------------


class _ClientBase:
    """What both clients share: Flask's request arguments, cookies, preserved context."""

    def __init__(
        self, app: MicroASGI, use_cookies: bool = True, base_url: str = _DEFAULT_BASE_URL
    ) -> None:
        self.application = app
        self.use_cookies = use_cookies
        self.base_url = base_url
        self._root_path = _root_path(base_url)
        self._preserving = False
        # Contexts kept by `with client:`, each waiting for its teardown.
        self._preserved: list[tuple[AppContext, BaseException | None]] = []
        self._pushed: Token[AppContext] | None = None
        self._client: Any  # httpx.Client or httpx.AsyncClient

    def _build(self, path: str, method: str, kwargs: dict[str, Any]) -> tuple[httpx.Request, bool]:
        follow = bool(kwargs.pop("follow_redirects", False))
        base_url = kwargs.pop("base_url", None)
        url = path
        if base_url is not None:
            url = base_url.rstrip("/") + "/" + path.lstrip("/")
        request = self._client.build_request(
            method.upper(), url, **_request_kwargs(self.application, **kwargs)
        )
        return request, follow

    def _keep(self, ctx: AppContext, error: BaseException | None) -> None:
        self._preserved.append((ctx, error))

    def _push_preserved(self) -> None:
        """Make the last request's context current in the caller's context."""
        if self._preserved:
            ctx = self._preserved[-1][0]
            self._pushed = _cv_app.set(ctx)

    def _pop_pushed(self) -> list[tuple[AppContext, BaseException | None]]:
        """Undo :meth:`_push_preserved`; return the kept contexts to tear down."""
        if self._pushed is not None:
            token, self._pushed = self._pushed, None
            # Concurrent requests (an async test's task group) push from other
            # tasks; their tokens belong to contexts that end with those tasks.
            with suppress(ValueError):
                _cv_app.reset(token)
        preserved, self._preserved = self._preserved, []
        return preserved

    def _open_session(self) -> tuple[SessionMixin, AppContext]:
        app = self.application
        cookie = "; ".join(f"{c.name}={c.value}" for c in self._client.cookies.jar)
        ctx = app.test_request_context("/", base_url=self.base_url, headers={"Cookie": cookie})
        session = app.session_interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("The session backend did not open a session. Is SECRET_KEY set?")
        return session, ctx

    def _save_session(self, session: SessionMixin, ctx: AppContext) -> None:
        app = self.application
        response = app.response_class()
        # The context is current while saving (a custom interface may read
        # `request`), but it is not a request: no teardown hooks run.
        token = _cv_app.set(ctx)
        try:
            if not app.session_interface.is_null_session(session):
                app.session_interface.save_session(app, session, response)
        finally:
            _cv_app.reset(token)
        fake = httpx.Response(
            200, headers=[("set-cookie", v) for v in response.headers.getlist("set-cookie")],
            request=httpx.Request("GET", self.base_url),
        )  # fmt: skip
        self._client.cookies.extract_cookies(fake)

    @contextmanager
    def session_transaction(self) -> Iterator[SessionMixin]:
        """Read and change the session the client's cookie carries.

        ::

            with client.session_transaction() as session:
                session["user_id"] = 1
        """
        session, ctx = self._open_session()
        yield session
        self._save_session(session, ctx)

    def set_cookie(
        self, key: str, value: str = "", domain: str = "localhost", path: str = "/"
    ) -> None:
        """Store a cookie that later requests send."""
        self._client.cookies.set(key, value, domain=_jar_domain(domain), path=path)

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The stored cookie ``key`` (``.value``, ``.domain``, ...), or ``None``."""
        domains = (domain, _jar_domain(domain))
        for cookie in self._client.cookies.jar:
            if cookie.name == key and cookie.domain in domains and cookie.path == path:
                return Cookie(
                    key=cookie.name, value=cookie.value or "", domain=domain, path=cookie.path,
                    expires=cookie.expires, secure=cookie.secure,
                    http_only=cookie.has_nonstandard_attr("HttpOnly"),
                )  # fmt: skip
        return None

    def delete_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> None:
        """Forget a stored cookie."""
        for name in (domain, _jar_domain(domain)):
            with suppress(KeyError):
                self._client.cookies.jar.clear(name, path, key)

    def _after_response(self) -> None:
        if not self.use_cookies:
            self._client.cookies.clear()


@dataclass(frozen=True)
class Cookie:
    """A cookie the test client holds, as ``client.get_cookie(key)`` returns it."""

    key: str
    value: str
    domain: str
    path: str
    expires: int | None
    secure: bool
    http_only: bool


def _jar_domain(domain: str) -> str:
    # The stdlib cookie jar files a dotless host such as "localhost" under
    # "localhost.local"; a cookie set for "localhost" must go there to be sent.
    return domain if "." in domain else f"{domain}.local"


# -- websockets ----------------------------------------------------------------------


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

    async def _handshake(self) -> None:
        await self._to_app_send.send({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            return
        self.closed = True
        if message["type"] == "websocket.http.response.start":
            body = []
            while (part := await self._next())["type"] == "websocket.http.response.body":
                body.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
            request = httpx.Request("GET", "http://localhost/")
            denial = httpx.Response(
                message["status"], headers=message.get("headers", []), content=b"".join(body),
                request=request,
            )  # fmt: skip
            raise WebsocketDenied(TestResponse(denial))
        request = httpx.Request("GET", "http://localhost/")
        raise WebsocketDenied(TestResponse(httpx.Response(403, request=request)))

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
async def _websocket(
    app: ASGIApp, request: httpx.Request, root_path: str, subprotocols: list[str] | None
) -> AsyncIterator[WebsocketConnection]:
    scope = _scope(request, root_path)
    scope.update(
        type="websocket", scheme="wss" if request.url.scheme == "https" else "ws",
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
    async with streams[0], streams[1], streams[2], streams[3], anyio.create_task_group() as tg:
        tg.start_soon(run)
        try:
            await conn._handshake()
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


def _verb(method: str) -> Callable[..., Any]:
    def call(self: Any, path: str = "/", **kwargs: Any) -> Any:
        return self.open(path, method=method, **kwargs)

    call.__name__ = method.lower()
    call.__doc__ = f"Send a {method} request (``open(path, method={method!r}, ...)``)."
    return call


class _Verbs:
    get = _verb("GET")
    post = _verb("POST")
    put = _verb("PUT")
    patch = _verb("PATCH")
    delete = _verb("DELETE")
    head = _verb("HEAD")
    options = _verb("OPTIONS")
    trace = _verb("TRACE")


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self._client = weakref.ref(client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._client()
        assert client is not None
        body = request.read()
        preserve = client._keep if client._preserving else None
        return client._portal().call(
            _call_app, client.application, request, body, client._root_path, preserve
        )


class _LoopThread:
    """An event loop in a daemon thread, reachable through a blocking portal."""

    def __init__(self) -> None:
        ready = threading.Event()
        self.portal: BlockingPortal | None = None

        async def main() -> None:
            async with BlockingPortal() as portal:
                self.portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        # A daemon thread: a client the test never closed must not hang exit.
        self.thread = threading.Thread(
            target=anyio.run, args=(main,), daemon=True, name="microasgi-test-loop"
        )
        self.thread.start()
        ready.wait()

    def stop(self) -> None:
        if self.portal is not None:
            with suppress(RuntimeError):  # already stopped
                self.portal.call(self.portal.stop)
        self.thread.join(timeout=5)


class TestClient(_Verbs, _ClientBase):
    """Flask's synchronous test client, for a :class:`MicroASGI` app.

    Create with ``app.test_client()``. ``with client:`` runs lifespan and keeps
    the last request's context (``request``, ``session``, ``g``) until the next
    request or the end of the block.
    """

    __test__ = False

    def __init__(
        self, app: MicroASGI, use_cookies: bool = True, base_url: str = _DEFAULT_BASE_URL
    ) -> None:
        super().__init__(app, use_cookies, base_url)
        self._loop: _LoopThread | None = None
        self._lifespan_cm: Any = None
        self._client = httpx.Client(transport=_SyncTransport(self), base_url=base_url)
        self._finalizer: Any = None  # weakref.finalize, once a loop exists

    def _portal(self) -> BlockingPortal:
        if self._loop is None:
            self._loop = _LoopThread()
            # Stops the loop thread if the test never closes the client.
            self._finalizer = weakref.finalize(self, _LoopThread.stop, self._loop)
        assert self._loop.portal is not None
        return self._loop.portal

    def open(self, path: str = "/", method: str = "GET", **kwargs: Any) -> TestResponse:
        """Send a request; takes Flask's arguments (``json=``, ``data=``,
        ``query_string=``, ``headers=``, ``content_type=``, ``follow_redirects=``)."""
        self._finish_preserved()
        request, follow = self._build(path, method, kwargs)
        response = self._client.send(request, follow_redirects=follow)
        self._after_response()
        self._push_preserved()
        return _wrap(response)

    def _finish_preserved(self) -> None:
        for ctx, error in self._pop_pushed():
            self._portal().call(_teardown_preserved, self.application, ctx, error)

    def __enter__(self) -> TestClient:
        if self._preserving:
            raise RuntimeError("Cannot nest 'with client' blocks.")
        self._lifespan_cm = self._portal().wrap_async_context_manager(
            run_lifespan(self.application)
        )
        self._lifespan_cm.__enter__()
        self._preserving = True
        return self

    def __exit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._preserving = False
        try:
            self._finish_preserved()
        finally:
            cm, self._lifespan_cm = self._lifespan_cm, None
            cm.__exit__(tp, exc, tb)

    @contextmanager
    def websocket_connect(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[WebsocketSession]:
        """Open a websocket to the app: ``with client.websocket_connect("/ws") as ws:``.

        A refused handshake raises :class:`WebsocketDenied` with the app's response.
        """
        portal = self._portal()
        request = self._client.build_request("GET", path, headers=headers)
        cm = _websocket(self.application, request, self._root_path, subprotocols)
        with portal.wrap_async_context_manager(cm) as conn:
            yield WebsocketSession(portal, conn)

    def close(self) -> None:
        """Stop the client's event loop thread, and the app's idle worker threads."""
        self._client.close()
        if self._finalizer is not None:
            self._finalizer()
        _shut_workers(self.application)


async def _teardown_preserved(app: MicroASGI, ctx: AppContext, error: BaseException | None) -> None:
    token = _cv_app.set(ctx)
    try:
        await app._teardown(ctx, error)
    finally:
        _cv_app.reset(token)


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self._client = weakref.ref(client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._client()
        assert client is not None
        body = await request.aread()
        preserve = client._keep if client._preserving else None
        return await _call_app(client.application, request, body, client._root_path, preserve)


class AsyncTestClient(_Verbs, _ClientBase):
    """The test client for ``async`` tests: the same API, awaited.

    ::

        async with app.async_test_client() as client:   # runs lifespan
            response = await client.get("/")
    """

    __test__ = False

    def __init__(
        self, app: MicroASGI, use_cookies: bool = True, base_url: str = _DEFAULT_BASE_URL
    ) -> None:
        super().__init__(app, use_cookies, base_url)
        self._client = httpx.AsyncClient(transport=_AsyncTransport(self), base_url=base_url)
        self._lifespan_cm: Any = None

    async def open(self, path: str = "/", method: str = "GET", **kwargs: Any) -> TestResponse:
        """Send a request; the arguments are the sync client's."""
        await self._finish_preserved()
        request, follow = self._build(path, method, kwargs)
        response = await self._client.send(request, follow_redirects=follow)
        self._after_response()
        self._push_preserved()
        return _wrap(response)

    async def _finish_preserved(self) -> None:
        for ctx, error in self._pop_pushed():
            await _teardown_preserved(self.application, ctx, error)

    def websocket_connect(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AbstractAsyncContextManager[WebsocketConnection]:
        """Open a websocket: ``async with client.websocket_connect("/ws") as ws:``."""
        request = self._client.build_request("GET", path, headers=headers)
        return _websocket(self.application, request, self._root_path, subprotocols)

    async def aclose(self) -> None:
        """Close the client, and end the app's idle worker threads (``async with`` does)."""
        await self._finish_preserved()
        await self._client.aclose()
        _shut_workers(self.application)

    async def __aenter__(self) -> AsyncTestClient:
        self._lifespan_cm = run_lifespan(self.application)
        await self._lifespan_cm.__aenter__()
        self._preserving = True
        return self

    async def __aexit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._preserving = False
        try:
            await self._finish_preserved()
        finally:
            cm, self._lifespan_cm = self._lifespan_cm, None
            await cm.__aexit__(tp, exc, tb)
            await self._client.aclose()
            _shut_workers(self.application)


def _shut_workers(app: Any) -> None:
    workers = getattr(app, "_workers", None)  # a microasgi app's (an ASGI app may be given)
    if workers is not None:
        workers.shutdown()


# -- the CLI --------------------------------------------------------------------------


class CliRunner(click.testing.CliRunner):
    """Invokes an app's commands in tests: ``app.test_cli_runner().invoke(args=["hello"])``.

    ``cli`` defaults to ``app.cli``; commands find the app through a :class:`ScriptInfo`.
    """

    def __init__(self, app: MicroASGI, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(
        self,
        cli: click.Command | None = None,
        args: str | Sequence[str] | None = None,
        input: str | bytes | IO[Any] | None = None,
        env: Mapping[str, str | None] | None = None,
        catch_exceptions: bool | None = None,
        color: bool = False,
        **extra: Any,
    ) -> click.testing.Result:
        """Invoke ``cli`` (default ``app.cli``) with ``args``, as the command line would."""
        if cli is None:
            cli = cast(click.Command, self.app.cli)
        if "obj" not in extra:
            extra["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, input, env, catch_exceptions, color, **extra)
