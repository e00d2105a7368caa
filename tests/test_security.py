"""Security properties: trusted hosts, header injection, no internals to clients."""

from __future__ import annotations

import logging

import pytest

from microasgi import MicroASGI, Response, redirect, request, url_for
from microasgi.wrappers.request import host_is_trusted

from .asgi import Wire, http_scope


def make_app() -> MicroASGI:
    app = MicroASGI("secure", static_folder=None)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", True),
        ("EXAMPLE.com:8443", True),
        ("api.example.com", True),
        ("deep.api.example.com", True),
        ("example.com.evil.net", False),
        ("evilexample.com", False),
        ("other.org", False),
        ("", False),
        ("[::1]:8000", False),
    ],
)
def test_host_is_trusted(host: str, expected: bool) -> None:
    assert host_is_trusted(host, [".example.com"]) is expected


def test_untrusted_host_is_400_and_never_reaches_url_for() -> None:
    app = make_app()
    app.config["TRUSTED_HOSTS"] = ["shop.example", ".api.example"]
    built: list[str] = []

    @app.get("/reset")
    def reset() -> str:
        built.append(url_for("reset", _external=True))
        return built[-1]

    client = app.test_client()
    trusted = client.get("/reset", headers={"Host": "shop.example"})
    assert trusted.text == "http://shop.example/reset"
    assert client.get("/reset", headers={"Host": "v2.api.example"}).status_code == 200
    forged = client.get("/reset", headers={"Host": "attacker.example"})
    assert forged.status_code == 400
    assert "attacker" not in forged.text
    assert built == ["http://shop.example/reset", "http://v2.api.example/reset"]


_BAD_HOSTS = [
    b"example.com:80@evil.test",  # user info: browsers would go to evil.test
    b"user@example.com",
    b"example.com:80:90",
    b"example.com:http",
    b"example.com:",
    b"example.com:99999",
    b"exa mple.com",
    b"example.com/evil",
    b"example.com\\evil.test",
    b"example.com?x",
    b"example.com#x",
    b"",
    b"[::1",
    b"example.com\t",
]


def _reset_app(trusted: list[str] | None) -> tuple[MicroASGI, list[str]]:
    app = make_app()
    app.config["TRUSTED_HOSTS"] = trusted
    built: list[str] = []

    @app.get("/reset")
    async def reset() -> str:
        built.append(url_for("reset", _external=True))
        return built[-1]

    return app, built


@pytest.mark.parametrize("trusted", [None, ["example.com"]], ids=["any-host", "trusted-hosts"])
@pytest.mark.parametrize("host", _BAD_HOSTS)
async def test_an_invalid_host_is_400_and_never_reaches_a_url(
    host: bytes, trusted: list[str] | None
) -> None:
    app, built = _reset_app(trusted)
    sc = http_scope("/reset")
    sc["headers"] = [(b"host", host)]
    wire = Wire()
    await app(sc, wire.receive, wire.send)
    assert wire.status == 400
    assert b"evil" not in wire.body
    assert built == []
    # The app still serves a good host.
    sc["headers"] = [(b"host", b"example.com:8080")]
    wire = Wire()
    await app(sc, wire.receive, wire.send)
    assert wire.text == "http://example.com:8080/reset"


@pytest.mark.parametrize(
    "host", [b"example.com", b"EXAMPLE.com:8443", b"127.0.0.1:8000", b"[::1]:8000", b"my_db:5000"]
)
async def test_valid_hosts_are_served(host: bytes) -> None:
    app, built = _reset_app(None)
    sc = http_scope("/reset")
    sc["headers"] = [(b"host", host)]
    wire = Wire()
    await app(sc, wire.receive, wire.send)
    assert wire.status == 200
    assert built == [f"http://{host.decode()}/reset"]


async def test_two_host_headers_are_400() -> None:
    # RFC 9112 3.2: a proxy and this app could each believe a different one.
    app, built = _reset_app(None)
    sc = http_scope("/reset", headers=[(b"host", b"evil.test")])
    wire = Wire()
    await app(sc, wire.receive, wire.send)
    assert wire.status == 400
    assert built == []


def test_an_invalid_host_refuses_the_websocket_handshake() -> None:
    from microasgi import websocket
    from microasgi.testing import WebsocketDenied

    app = make_app()

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send_text(websocket.host)

    client = app.test_client()
    with client.websocket_connect("/ws", headers={"Host": "chat.example"}) as conn:
        assert conn.receive_text() == "chat.example"
    with (
        pytest.raises(WebsocketDenied) as refused,
        client.websocket_connect("/ws", headers={"Host": "chat.example:1@evil.test"}),
    ):
        pass
    assert refused.value.response.status_code == 400


def test_trusted_hosts_off_by_default() -> None:
    app = make_app()

    @app.get("/")
    async def index() -> str:
        return "ok"

    assert app.test_client().get("/", headers={"Host": "anything.test"}).text == "ok"


# CR, LF and NUL could split the response; the other controls (VT, DEL, ...) make
# ASGI servers drop the connection without an answer while they log a 200.
_CONTROLS = ["a\r\nSet-Cookie: x=1", "a\nb", "a\x00b", "a\x0bb", "a\x7fb", "a\x01b", "a\x1fb"]


@pytest.mark.parametrize("bad", _CONTROLS)
def test_a_header_value_with_a_control_character_is_a_logged_bare_500(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.get("/header")
    def header() -> Response:
        response = Response("x")
        response.headers["X-Echo"] = bad
        return response

    @app.get("/tuple")
    async def as_tuple() -> tuple[str, dict[str, str]]:
        return "x", {"X-Echo": bad}

    @app.get("/after")
    @app.get("/ok")
    async def after() -> str:
        return "x"

    @app.after_request
    def add(response: Response) -> Response:
        if request.path == "/after":
            response.headers.add("X-Echo", bad)
        return response

    client = app.test_client()
    for path in ("/header", "/tuple", "/after"):
        caplog.clear()
        response = client.get(path)
        assert response.status_code == 500
        assert "x-echo" not in response.headers
        assert "Internal Server Error" in response.text
        assert "control character" in caplog.text  # logged, with the reason
    assert client.get("/ok").status_code == 200  # and the app goes on


def test_a_header_value_with_tab_and_latin1_text_is_sent() -> None:
    app = make_app()

    @app.get("/")
    async def index() -> tuple[str, dict[str, str]]:
        return "x", {"X-Note": "caf\xe9\tok"}

    assert app.test_client().get("/").headers["x-note"].encode("latin-1") == b"caf\xe9\tok"


@pytest.mark.parametrize("name", ["X Echo", "X-Echo:", "X\x0bEcho", "X(Echo)", ""])
def test_a_header_name_that_is_not_a_token_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="token"):
        Response("x", headers={name: "v"})
    with pytest.raises(ValueError, match="token"):
        Response("x").headers[name] = "v"


@pytest.mark.parametrize("bad", ["/; Domain=evil.com", "/\r\nSet-Cookie: x=1", "/a b;Secure"])
def test_a_cookie_path_cannot_add_attributes(bad: str) -> None:
    response = Response("x")
    response.set_cookie("name", "v", path=bad)
    (cookie,) = response.headers.getlist("Set-Cookie")
    attributes = [part.strip().split("=")[0] for part in cookie.split(";")]
    assert attributes == ["name", "Path"]  # percent-encoded, as Werkzeug does
    assert cookie.startswith("name=v; Path=/")


@pytest.mark.parametrize(
    ("key", "domain"),
    [("name", "example.com; Secure"), ("name", "evil.com\r\nX: y"), ("a; Domain=evil", None)],
)
def test_a_cookie_name_or_domain_with_separators_is_refused(key: str, domain: str | None) -> None:
    with pytest.raises(ValueError, match="cookie"):
        Response("x").set_cookie(key, "v", domain=domain)


def test_of_two_cookies_with_one_name_the_first_wins() -> None:
    # As in Flask: a second `session` cookie (set for a parent domain, say) must
    # not override the one the browser sends first.
    app = make_app()

    @app.get("/")
    async def index() -> dict[str, object]:
        return {"first": request.cookies["id"], "all": request.cookies.getlist("id")}

    client = app.test_client(use_cookies=False)
    response = client.get("/", headers={"Cookie": "id=one; other=x; id=two"})
    assert response.json == {"first": "one", "all": ["one", "two"]}


def test_redirect_target_with_crlf_is_escaped() -> None:
    app = make_app()

    @app.get("/go")
    def go() -> Response:
        return redirect("/next\r\nSet-Cookie: stolen=1")

    response = app.test_client().get("/go")
    assert response.status_code == 302
    assert response.headers["location"] == "/next%0D%0ASet-Cookie:%20stolen=1"
    assert "set-cookie" not in response.headers


def test_no_traceback_or_config_in_500_unless_debug() -> None:
    app = make_app()
    app.config["SECRET_KEY"] = "very-secret-value"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(f"failed with {app.config['SECRET_KEY']}")

    client = app.test_client()
    body = client.get("/boom").text
    assert "Traceback" not in body
    assert "very-secret-value" not in body
    assert "RuntimeError" not in body
    app.config["DEBUG"] = True
    assert "Traceback" in client.get("/boom").text


def test_forwarded_headers_are_ignored() -> None:
    app = make_app()

    @app.get("/where")
    def where() -> dict[str, object]:
        from microasgi import request

        return {"remote": request.remote_addr, "scheme": request.scheme, "url": request.url}

    response = app.test_client().get(
        "/where",
        headers={
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil",
        },
    )
    assert response.json == {
        "remote": "127.0.0.1",
        "scheme": "http",
        "url": "http://localhost/where",
    }


def test_untrusted_host_refuses_the_websocket_handshake() -> None:
    from microasgi import websocket
    from microasgi.testing import WebsocketDenied

    app = make_app()
    app.config["TRUSTED_HOSTS"] = ["chat.example"]

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send_text("hello")

    client = app.test_client(base_url="http://chat.example")
    with client.websocket_connect("/ws") as conn:
        assert conn.receive_text() == "hello"
    forged = app.test_client(base_url="http://attacker.example")
    with pytest.raises(WebsocketDenied) as refused, forged.websocket_connect("/ws"):
        pass
    assert refused.value.response.status_code == 400


def test_root_path_is_stripped_only_on_a_segment_boundary() -> None:
    from microasgi.wrappers.request import strip_root_path

    assert strip_root_path("/shop/cart", "/shop") == "/cart"
    assert strip_root_path("/shop", "/shop") == "/"
    assert strip_root_path("/shop/", "/shop/") == "/"
    assert strip_root_path("/shopping", "/shop") == "/shopping"
    assert strip_root_path("/cart", "/shop") == "/cart"  # an older server already stripped it


def test_url_for_quotes_the_root_path() -> None:
    app = make_app()

    @app.get("/x")
    async def x() -> str:
        return url_for("x")

    client = app.test_client(base_url="http://localhost/my%20shop")
    assert client.get("/x").text == "/my%20shop/x"


def test_malformed_multipart_is_a_400_that_writes_nothing_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Otherwise every such request from any client would add a warning line.
    app = make_app()

    @app.post("/upload")
    async def upload() -> str:
        return str(len(request.form))

    body = b"--XyZ\r\nbad header line\r\n\r\nvalue\r\n--XyZ--\r\n"
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post(
            "/upload", data=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
        )
    assert response.status_code == 400
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
