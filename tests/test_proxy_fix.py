"""ProxyFix: X-Forwarded-* applied only for the configured number of proxies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from microasgi import MicroASGI, WSGIApp, redirect, request, url_for, websocket
from microasgi.middleware.proxy_fix import ORIG_SCOPE_KEY, ProxyFix
from microasgi.typing import Message, Receive, Scope, Send

FORGED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Prefix": "/shop",
}


def make_app(**trust: int) -> MicroASGI:
    """An app reporting what it sees of the request; wrapped in ProxyFix(**trust) if given."""
    app = MicroASGI("proxied", static_folder=None)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/where/<name>")
    def where(name: str) -> dict[str, Any]:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "url": request.url,
            "external": url_for("where", name=name, _external=True),
            "relative": url_for("where", name=name),
            "root_path": request.root_path,
            "path": request.path,
            "server": list(request.scope["server"]),
        }

    @app.get("/go")
    def go() -> Any:
        return redirect(url_for("where", name="there"))

    if trust:
        app.add_middleware(ProxyFix, **trust)
    return app


def seen(app: MicroASGI, headers: dict[str, str], path: str = "/where/x") -> dict[str, Any]:
    response = app.test_client().get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json  # type: ignore[no-any-return]


# -- off by default ------------------------------------------------------------------


def test_forwarded_headers_are_ignored_without_proxy_fix() -> None:
    assert seen(make_app(), FORGED) == {
        "remote_addr": "127.0.0.1",
        "scheme": "http",
        "host": "localhost",
        "url": "http://localhost/where/x",
        "external": "http://localhost/where/x",
        "relative": "/where/x",
        "root_path": "",
        "path": "/where/x",
        "server": ["localhost", 80],
    }


def test_zero_hops_ignore_a_header() -> None:
    app = make_app(x_for=0, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    assert seen(app, FORGED) == seen(make_app(), FORGED)
    # The same headers do apply once trusted, so the line above compares something.
    assert seen(make_app(x_for=1, x_proto=1), FORGED)["remote_addr"] == "203.0.113.7"


def test_defaults_trust_for_and_proto_but_not_host() -> None:
    got = seen(make_app(x_for=1, x_proto=1), FORGED)
    assert got["remote_addr"] == "203.0.113.7"
    assert got["scheme"] == "https"
    assert got["url"] == "https://localhost/where/x"
    assert got["external"] == "https://localhost/where/x"
    assert got["host"] == "localhost"  # X-Forwarded-Host needs x_host
    assert got["root_path"] == ""  # X-Forwarded-Prefix needs x_prefix

    default = ProxyFix(make_app())
    trusted = [default.x_for, default.x_proto, default.x_host, default.x_port, default.x_prefix]
    assert trusted == [1, 1, 0, 0, 0]
    assert seen(make_app(), FORGED) != seen(make_app(x_for=1, x_proto=1), FORGED)


def test_wrapping_asgi_app_directly_works_like_add_middleware() -> None:
    app = make_app()
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1)
    got = seen(app, FORGED)
    assert (got["remote_addr"], got["scheme"]) == ("203.0.113.7", "https")


# -- each header ---------------------------------------------------------------------


def test_forwarded_host_sets_host_server_and_urls() -> None:
    got = seen(make_app(x_proto=1, x_host=1), FORGED)  # X-Forwarded-Port: not trusted
    assert got["host"] == "shop.example"
    assert got["server"] == ["shop.example", 443]
    assert got["url"] == "https://shop.example/where/x"
    assert got["external"] == "https://shop.example/where/x"


def test_forwarded_host_keeps_its_port() -> None:
    got = seen(make_app(x_host=1), {"X-Forwarded-Host": "shop.example:8080"})
    assert got["host"] == "shop.example:8080"
    assert got["server"] == ["shop.example", 8080]
    assert got["external"] == "http://shop.example:8080/where/x"


@pytest.mark.parametrize(
    ("headers", "host", "server"),
    [
        # The port replaces the one in the forwarded host...
        ({"X-Forwarded-Host": "shop:81", "X-Forwarded-Port": "8443"}, "shop:8443", 8443),
        # ...or in the Host header the request came with.
        ({"Host": "shop:81", "X-Forwarded-Port": "8443"}, "shop:8443", 8443),
        # A scheme's default port is left out of the host, as browsers do.
        ({"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}, "localhost", 443),
        ({"X-Forwarded-Proto": "http", "X-Forwarded-Port": "443"}, "localhost:443", 443),
    ],
)  # fmt: skip
def test_forwarded_port(headers: dict[str, str], host: str, server: int) -> None:
    got = seen(make_app(x_proto=1, x_host=1, x_port=1), headers)
    assert got["host"] == host
    assert got["server"] == [host.partition(":")[0], server]
    assert got["external"] == f"{got['scheme']}://{host}/where/x"


@pytest.mark.parametrize(
    ("path", "forwarded_prefix"),
    [
        ("/where/x", "/shop"),  # the proxy stripped the prefix
        ("/shop/where/x", "/shop"),  # the proxy passed the whole path on
        ("/where/x", "/shop/"),
    ],
)
def test_forwarded_prefix_becomes_root_path(path: str, forwarded_prefix: str) -> None:
    app = make_app(x_prefix=1)
    got = seen(app, {"X-Forwarded-Prefix": forwarded_prefix}, path=path)
    assert got["root_path"] == "/shop"
    assert got["path"] == "/where/x"  # routing sees the app's own path
    assert got["relative"] == "/shop/where/x"
    assert got["url"] == got["external"] == "http://localhost/shop/where/x"
    response = app.test_client().get("/go", headers={"X-Forwarded-Prefix": forwarded_prefix})
    assert response.headers["location"] == "/shop/where/there"


def test_forwarded_prefix_is_percent_decoded_like_path() -> None:
    got = seen(make_app(x_prefix=1), {"X-Forwarded-Prefix": "/my%20shop"}, path="/my shop/where/x")
    assert (got["root_path"], got["path"]) == ("/my shop", "/where/x")
    assert got["url"] == "http://localhost/my%20shop/where/x"


def test_forwarded_prefix_goes_in_front_of_the_servers_root_path() -> None:
    app = make_app(x_prefix=1)
    # base_url /api: the server's own root_path, with `path` including it (ASGI 2.5).
    client = app.test_client(base_url="http://localhost/api")
    got = client.get("/where/x", headers={"X-Forwarded-Prefix": "/shop"}).json
    assert got["root_path"] == "/shop/api"
    assert got["path"] == "/where/x"
    assert got["relative"] == "/shop/api/where/x"


def test_a_path_merely_starting_like_the_prefix_still_gets_it() -> None:
    app = make_app(x_prefix=1)

    @app.get("/shopping")
    def shopping() -> str:
        return f"{request.root_path}|{request.path}"

    response = app.test_client().get("/shopping", headers={"X-Forwarded-Prefix": "/shop"})
    assert response.text == "/shop|/shopping"


def test_forwarded_values_reach_a_mounted_wsgi_app() -> None:
    environs: list[dict[str, Any]] = []

    def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environs.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app = make_app(x_for=1, x_proto=1, x_host=1, x_prefix=1)
    app.mount("/legacy", WSGIApp(legacy))
    assert app.test_client().get("/legacy/page", headers=FORGED).text == "ok"
    (environ,) = environs
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_HOST"] == "shop.example"
    assert environ["SCRIPT_NAME"] == "/shop/legacy"
    assert environ["PATH_INFO"] == "/page"


# -- hop counting ----------------------------------------------------------------------


def test_two_proxies_take_the_second_value_from_the_right() -> None:
    # The client forged the leftmost values; proxy 1 appended what it saw, then proxy 2.
    headers = {
        "X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.1",
        "X-Forwarded-Proto": "http, https, http",
        "X-Forwarded-Host": "evil.example, shop.example, internal:8000",
        "X-Forwarded-Prefix": "/evil, /shop, /internal",
    }
    got = seen(make_app(x_for=2, x_proto=2, x_host=2, x_prefix=2), headers)
    assert got["remote_addr"] == "203.0.113.7"
    assert got["external"] == "https://shop.example/shop/where/x"
    one = seen(make_app(x_for=1, x_proto=1, x_host=1, x_prefix=1), headers)
    assert one["remote_addr"] == "10.0.0.1"
    assert one["external"] == "http://internal:8000/internal/where/x"


@pytest.mark.parametrize(
    ("header", "values", "key", "untouched"),
    [
        ("X-Forwarded-For", "203.0.113.7", "remote_addr", "127.0.0.1"),
        ("X-Forwarded-Proto", "https", "scheme", "http"),
        ("X-Forwarded-Host", "shop.example", "host", "localhost"),
        ("X-Forwarded-Port", "8443", "host", "localhost"),
        ("X-Forwarded-Prefix", "/shop", "root_path", ""),
    ],
)
def test_fewer_values_than_hops_is_ignored(
    header: str, values: str, key: str, untouched: str
) -> None:
    two = make_app(x_for=2, x_proto=2, x_host=2, x_port=2, x_prefix=2)
    assert seen(two, {header: values})[key] == untouched
    # Two values for two hops: now it applies.
    assert seen(two, {header: f"{values}, {values}"})[key] != untouched


async def test_repeated_header_lines_are_one_list() -> None:
    lines = [(b"x-forwarded-for", b"6.6.6.6, 1.1.1.1"), (b"x-forwarded-for", b"2.2.2.2")]
    fixed = await call(ProxyFix(Recorder(), x_for=2), http_scope(headers=lines))
    assert fixed["client"] == ("1.1.1.1", 0)


# -- malformed values ------------------------------------------------------------------


@pytest.mark.parametrize("proto", ["ftp", "javascript", "ws", "HTTPS2", ""])
def test_invalid_proto_is_ignored(proto: str) -> None:
    app = make_app(x_proto=1)
    assert seen(app, {"X-Forwarded-Proto": proto})["scheme"] == "http"
    assert seen(app, {"X-Forwarded-Proto": "HTTPS"})["scheme"] == "https"


@pytest.mark.parametrize(
    "host", ["evil.example/path", "user@evil.example", "evil.example:port", "a b", "[::1", ""]
)
def test_invalid_host_is_ignored(host: str) -> None:
    app = make_app(x_host=1)
    assert seen(app, {"X-Forwarded-Host": host})["host"] == "localhost"
    assert seen(app, {"X-Forwarded-Host": "[2001:db8::1]:8080"})["host"] == "[2001:db8::1]:8080"


@pytest.mark.parametrize("port", ["http", "0", "65536", "-1", "+80"])
def test_invalid_port_is_ignored(port: str) -> None:
    app = make_app(x_port=1)
    assert seen(app, {"X-Forwarded-Port": port})["host"] == "localhost"
    assert seen(app, {"X-Forwarded-Port": "65535"})["host"] == "localhost:65535"


@pytest.mark.parametrize(
    "prefix",
    [
        "//evil.example",
        "/%2Fevil.example",
        "shop",
        "/shop/../admin",
        "/a\\b",
        "/a?b=1",
        "/",
        "/a%0ab",
    ],
)
def test_invalid_prefix_is_ignored(prefix: str) -> None:
    app = make_app(x_prefix=1)
    got = seen(app, {"X-Forwarded-Prefix": prefix})
    assert (got["root_path"], got["relative"]) == ("", "/where/x")
    assert seen(app, {"X-Forwarded-Prefix": "/shop"})["relative"] == "/shop/where/x"


@pytest.mark.parametrize("bad", [-1, 1.5, "1", None, True])
def test_hop_counts_must_be_non_negative_ints(bad: Any) -> None:
    for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix"):
        with pytest.raises(ValueError, match=f"{name}="):
            ProxyFix(make_app(), **{name: bad})
    ProxyFix(make_app(), x_for=0, x_proto=3)


# -- trusted hosts ---------------------------------------------------------------------


def test_trusted_hosts_checks_the_forwarded_host() -> None:
    app = make_app(x_host=1)
    app.config["TRUSTED_HOSTS"] = ["shop.example"]
    client = app.test_client()
    # The proxy's own Host is internal; the host the client asked for is forwarded.
    good = client.get("/where/x", headers={"Host": "app:8000", "X-Forwarded-Host": "shop.example"})
    assert good.status_code == 200
    assert good.json["external"] == "http://shop.example/where/x"
    forged = client.get(
        "/where/x", headers={"Host": "shop.example", "X-Forwarded-Host": "attacker.example"}
    )
    assert forged.status_code == 400
    assert "attacker" not in forged.text


def test_forwarded_host_is_not_trusted_without_x_host() -> None:
    app = make_app(x_for=1, x_proto=1)
    app.config["TRUSTED_HOSTS"] = ["shop.example"]
    headers = {"Host": "shop.example", "X-Forwarded-Host": "attacker.example"}
    response = app.test_client().get("/where/x", headers=headers)
    assert response.status_code == 200
    assert response.json["external"] == "http://shop.example/where/x"


# -- websockets and lifespan -----------------------------------------------------------


@pytest.mark.parametrize(("proto", "scheme"), [("https", "wss"), ("http", "ws"), ("wss", "wss")])
def test_websocket_scheme_and_client(proto: str, scheme: str) -> None:
    app = make_app(x_for=1, x_proto=1, x_host=1)

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        await websocket.send_json(
            {"scheme": websocket.scheme, "remote": websocket.remote_addr, "url": websocket.url}
        )

    client = app.test_client()
    headers = {**FORGED, "X-Forwarded-Proto": proto}
    with client.websocket_connect("/ws", headers=headers) as conn:
        assert conn.receive_json() == {
            "scheme": scheme,
            "remote": "203.0.113.7",
            "url": f"{scheme}://shop.example/ws",
        }
    with client.websocket_connect("/ws", headers={"X-Forwarded-Proto": "ftp"}) as conn:
        assert conn.receive_json()["scheme"] == "ws"


async def test_lifespan_scope_passes_through_untouched() -> None:
    recorder = Recorder()
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await call(ProxyFix(recorder, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1), scope)
    assert recorder.scopes == [scope]
    assert recorder.scopes[0] is scope
    assert scope == {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}


def test_lifespan_still_runs_through_proxy_fix() -> None:
    app = make_app(x_for=1)
    events: list[str] = []

    @app.before_serving
    def started() -> None:
        events.append("up")

    with app.test_client():
        assert events == ["up"]


# -- the scope -------------------------------------------------------------------------


async def test_the_app_gets_a_copy_and_the_original_values() -> None:
    original = http_scope(
        headers=[
            (b"host", b"app:8000"),
            (b"x-forwarded-for", b"203.0.113.7"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-host", b"shop.example"),
            (b"x-forwarded-prefix", b"/shop"),
        ]
    )
    before = json.dumps(original, default=repr)
    recorder = Recorder()
    fixed = await call(ProxyFix(recorder, x_host=1, x_prefix=1), original)
    assert fixed is not original
    assert json.dumps(original, default=repr) == before  # outer layers see what the server sent
    assert fixed[ORIG_SCOPE_KEY] == {
        "client": ("10.0.0.1", 4321),
        "scheme": "http",
        "host": "app:8000",
        "server": ("app", 8000),
        "root_path": "",
        "path": "/cart",
    }
    assert fixed["client"] == ("203.0.113.7", 0)
    assert fixed["scheme"] == "https"
    assert fixed["server"] == ("shop.example", 443)
    assert [value for name, value in fixed["headers"] if name == b"host"] == [b"shop.example"]
    assert (fixed["root_path"], fixed["path"]) == ("/shop", "/shop/cart")


async def test_a_server_that_stripped_root_path_gets_the_whole_path() -> None:
    # An older server: root_path "/api", path without it.
    scope = http_scope(headers=[(b"x-forwarded-prefix", b"/shop")], root_path="/api")
    fixed = await call(ProxyFix(Recorder(), x_prefix=1), scope)
    assert (fixed["root_path"], fixed["path"]) == ("/shop/api", "/shop/api/cart")


# -- helpers ---------------------------------------------------------------------------


class Recorder:
    """An ASGI app that records the scopes it is called with."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)


def http_scope(headers: list[tuple[bytes, bytes]], root_path: str = "") -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/cart",
        "root_path": root_path,
        "query_string": b"",
        "headers": headers,
        "client": ("10.0.0.1", 4321),
        "server": ("app", 8000),
    }


async def call(app: ProxyFix, scope: Scope) -> Scope:
    """Call ``app`` (wrapping a Recorder) with ``scope``; return the scope the app got."""
    recorder = app.app
    assert isinstance(recorder, Recorder)

    async def receive() -> Message:
        raise AssertionError("ProxyFix must not read the body")

    async def send(message: Message) -> None:
        raise AssertionError("ProxyFix must not answer")

    await app(scope, receive, send)
    return recorder.scopes[-1]
