"""The async test client, for ``async`` tests: an httpx client calling the app directly."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager, suppress
from datetime import datetime, timezone
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import anyio
import httpx
import werkzeug.test
from werkzeug.datastructures import Headers
from werkzeug.test import Cookie, TestResponse
from werkzeug.wrappers import Request as BaseRequest

from ..globals import _cv_app
from ..lifespan import run_lifespan
from ..typing import ASGIApp, Message, Scope
from ._client import Preserving, shut_workers, teardown_preserved
from ._websockets import WebsocketConnection, open_websocket

if TYPE_CHECKING:
    from ..app import MicroASGI
    from ..ctx import AppContext
    from ..sessions import SessionMixin


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


def _werkzeug_request(request: httpx.Request, root_path: str) -> BaseRequest:
    """The Werkzeug request a :class:`TestResponse` names, for an httpx request."""
    url = request.url
    path = unquote(url.path)
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        path = path[len(root_path) :]
    builder = werkzeug.test.EnvironBuilder(
        path or "/",
        f"{url.scheme}://{url.netloc.decode('ascii')}{quote(root_path)}",
        query_string=url.query.decode("latin-1"),
        method=request.method,
        headers=list(request.headers.multi_items()),
    )
    return builder.get_request()


def _test_response(response: httpx.Response, app: MicroASGI, root_path: str) -> TestResponse:
    headers = Headers(
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw]
    )
    history = tuple(_test_response(r, app, root_path) for r in response.history)
    request = _werkzeug_request(response.request, root_path)
    rv = TestResponse(
        [response.content], str(response.status_code), headers, request,
        history=history,  # type: ignore[arg-type]  # (Werkzeug's hint says a 1-tuple)
    )  # fmt: skip
    rv.json_module = app.json  # type: ignore[assignment]
    return rv


_Preserve = Callable[["AppContext", "BaseException | None"], None]


async def _call_app(
    app: ASGIApp,
    request: httpx.Request,
    body: bytes,
    root_path: str,
    preserve: _Preserve | None,
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


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self._client = weakref.ref(client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._client()
        assert client is not None
        body = await request.aread()
        preserve = client._keep if client.preserve_context else None
        return await _call_app(client.application, request, body, client._root_path, preserve)


def _verb(method: str) -> Callable[..., Any]:
    def call(self: Any, path: str = "/", **kwargs: Any) -> Any:
        return self.open(path, method=method, **kwargs)

    call.__name__ = method.lower()
    call.__doc__ = f"Send a {method} request (``open(path, method={method!r}, ...)``)."
    return call


class AsyncTestClient(Preserving):
    """The test client for ``async`` tests: the sync client's usual arguments, awaited.

    ::

        async with app.async_test_client() as client:   # runs lifespan
            response = await client.get("/")

    It takes ``json=``, ``data=`` (with files), ``query_string=``, ``headers=``,
    ``content_type=``, ``follow_redirects=`` and ``base_url=``; responses are
    ``werkzeug.test.TestResponse``. ``def`` views run in worker threads.
    """

    __test__ = False

    get = _verb("GET")
    post = _verb("POST")
    put = _verb("PUT")
    patch = _verb("PATCH")
    delete = _verb("DELETE")
    head = _verb("HEAD")
    options = _verb("OPTIONS")
    trace = _verb("TRACE")

    def __init__(
        self,
        app: MicroASGI,
        use_cookies: bool = True,
        base_url: str = "http://localhost",
    ) -> None:
        super().__init__()
        self.application = app
        self.use_cookies = use_cookies
        self.base_url = base_url
        self._root_path = _root_path(base_url)
        self._client = httpx.AsyncClient(transport=_AsyncTransport(self), base_url=base_url)
        self._lifespan_cm: Any = None

    async def open(self, path: str = "/", method: str = "GET", **kwargs: Any) -> TestResponse:
        """Send a request; the arguments are listed in the class's description."""
        await self._finish_preserved()
        follow = bool(kwargs.pop("follow_redirects", False))
        base_url = kwargs.pop("base_url", None)
        url = path if base_url is None else base_url.rstrip("/") + "/" + path.lstrip("/")
        request = self._client.build_request(
            method.upper(), url, **_request_kwargs(self.application, **kwargs)
        )
        response = await self._client.send(request, follow_redirects=follow)
        if not self.use_cookies:
            self._client.cookies.clear()
        self._push_preserved()
        return _test_response(response, self.application, self._root_path)

    async def _finish_preserved(self) -> None:
        for ctx, error in self._pop_pushed():
            await teardown_preserved(self.application, ctx, error)

    # -- cookies and the session, in httpx's cookie jar

    @contextmanager
    def session_transaction(self) -> Iterator[SessionMixin]:
        """Read and change the session the client's cookie carries (a plain ``with``)."""
        app = self.application
        cookie = "; ".join(f"{c.name}={c.value}" for c in self._client.cookies.jar)
        ctx = app.test_request_context("/", base_url=self.base_url, headers={"Cookie": cookie})
        session = app.session_interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("Session backend did not open a session. Is SECRET_KEY set?")
        yield session
        response = app.response_class()
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

    def set_cookie(
        self, key: str, value: str = "", *, domain: str = "localhost", path: str = "/"
    ) -> None:
        """Store a cookie that later requests send."""
        self._client.cookies.set(key, value, domain=_jar_domain(domain), path=path)

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The stored cookie ``key`` (Werkzeug's ``Cookie``: ``.value``...), or ``None``."""
        for cookie in self._client.cookies.jar:
            if cookie.name != key or cookie.path != path:
                continue
            if cookie.domain in (domain, _jar_domain(domain)):
                value = cookie.value or ""
                expires = cookie.expires
                when = None if expires is None else datetime.fromtimestamp(expires, timezone.utc)
                return Cookie(
                    key=key, value=value, decoded_key=key, decoded_value=value, expires=when,
                    max_age=None, domain=domain, origin_only=not cookie.domain_initial_dot,
                    path=path, secure=cookie.secure,
                    http_only=cookie.has_nonstandard_attr("HttpOnly"),
                    same_site=cookie.get_nonstandard_attr("SameSite"),
                )  # fmt: skip
        return None

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Forget a stored cookie."""
        for name in (domain, _jar_domain(domain)):
            with suppress(KeyError):
                self._client.cookies.jar.clear(name, path, key)

    # -- websockets, lifespan, the end

    def websocket_connect(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AbstractAsyncContextManager[WebsocketConnection]:
        """Open a websocket: ``async with client.websocket_connect("/ws") as ws:``."""
        request = self._client.build_request("GET", path, headers=headers)
        scope = _scope(request, self._root_path)
        return open_websocket(
            self.application,
            scope,
            _werkzeug_request(request, self._root_path),
            subprotocols,
        )

    async def aclose(self) -> None:
        """Close the client, and end the app's idle worker threads (``async with`` does)."""
        await self._finish_preserved()
        await self._client.aclose()
        shut_workers(self.application)

    async def __aenter__(self) -> AsyncTestClient:
        self._lifespan_cm = run_lifespan(self.application)
        await self._lifespan_cm.__aenter__()
        self.preserve_context = True
        return self

    async def __aexit__(
        self,
        tp: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        try:
            await self._finish_preserved()
        finally:
            cm, self._lifespan_cm = self._lifespan_cm, None
            await cm.__aexit__(tp, exc, tb)
            await self._client.aclose()
            shut_workers(self.application)


def _jar_domain(domain: str) -> str:
    # The stdlib cookie jar files a dotless host such as "localhost" under
    # "localhost.local"; a cookie set for "localhost" must go there to be sent.
    return domain if "." in domain else f"{domain}.local"
