"""Websocket routes, the `websocket` local, hooks, refusal, errors, and the test client."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from microasgi import MicroASGI, abort, g, session, websocket
from microasgi.blueprints import Blueprint
from microasgi.testing import WebsocketDenied
from microasgi.websockets import Websocket, WebsocketDisconnect


def make_app() -> MicroASGI:
    app = MicroASGI("ws_app", static_folder=None)
    app.config.update(TESTING=True, SECRET_KEY="s")
    return app


def test_echo_text_bytes_and_json() -> None:
    app = make_app()

    @app.websocket("/echo")
    async def echo() -> None:
        while True:
            message = await websocket.receive()
            if isinstance(message, bytes):
                await websocket.send(message[::-1])
            elif message.startswith("{"):
                await websocket.send_json({"got": message})
            else:
                await websocket.send(f"echo: {message}")

    with app.test_client().websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "echo: hello"
        ws.send_bytes(b"abc")
        assert ws.receive_bytes() == b"cba"
        ws.send_json({"a": 1})
        assert ws.receive_json() == {"got": '{"a": 1}'}


def test_receive_json_and_iteration_until_disconnect() -> None:
    app = make_app()
    seen: list[Any] = []

    @app.websocket("/sum")
    async def total() -> None:
        first = await websocket.receive_json()
        seen.append(first)
        async for message in websocket:
            seen.append(message)
        seen.append("client left")

    with app.test_client().websocket_connect("/sum") as ws:
        ws.send_json({"n": 1})
        ws.send_text("two")
        ws.send_bytes(b"3")
    assert seen == [{"n": 1}, "two", b"3", "client left"]


def test_handshake_names_view_args_and_subprotocols() -> None:
    app = make_app()

    @app.websocket("/rooms/<int:room>")
    async def room(room: int) -> None:
        await websocket.accept(subprotocol="chat.v2")
        await websocket.send_json(
            {
                "room": room,
                "path": websocket.path,
                "nick": websocket.args.get("nick"),
                "header": websocket.headers.get("x-token"),
                "offered": websocket.requested_subprotocols,
                "endpoint": websocket.endpoint,
            }
        )

    client = app.test_client()
    with client.websocket_connect(
        "/rooms/7?nick=ada", subprotocols=["chat.v1", "chat.v2"], headers={"X-Token": "t"}
    ) as ws:
        assert ws.accepted_subprotocol == "chat.v2"
        assert ws.receive_json() == {
            "room": 7,
            "path": "/rooms/7",
            "nick": "ada",
            "header": "t",
            "offered": ["chat.v1", "chat.v2"],
            "endpoint": "room",
        }
        with pytest.raises(WebsocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000


def test_sync_handler_is_refused_at_registration() -> None:
    app = make_app()
    with pytest.raises(TypeError, match="must be async"):

        @app.websocket("/sync")
        def sync_handler() -> None:
            pass


def test_refusal_before_accept_with_abort_and_an_error_handler() -> None:
    app = make_app()

    @app.websocket("/private")
    async def private() -> None:
        if websocket.args.get("token") != "secret":
            abort(403, "A token is needed.")
        await websocket.send_text("welcome")

    @app.websocket("/teapot")
    async def teapot() -> None:
        abort(418)

    @app.errorhandler(418)
    async def short_and_stout(error: Exception) -> tuple[str, int]:
        return "I am a teapot", 418

    client = app.test_client()
    with pytest.raises(WebsocketDenied) as denied, client.websocket_connect("/private"):
        pass
    assert denied.value.response.status_code == 403
    assert "A token is needed." in denied.value.response.text
    with client.websocket_connect("/private?token=secret") as ws:
        assert ws.receive_text() == "welcome"
    with pytest.raises(WebsocketDenied) as denied, client.websocket_connect("/teapot"):
        pass
    assert (denied.value.response.status_code, denied.value.response.text) == (418, "I am a teapot")


def test_unknown_path_is_refused_with_404() -> None:
    app = make_app()
    with pytest.raises(WebsocketDenied) as denied, app.test_client().websocket_connect("/nowhere"):
        pass
    assert denied.value.response.status_code == 404


def test_missing_slash_is_refused_with_a_redirect_to_the_whole_url() -> None:
    # As for a request: the router's redirect, with the mount point and the query.
    app = make_app()

    @app.websocket("/room/")
    async def room() -> None:  # pragma: no cover - the handshake is refused
        await websocket.accept()

    client = app.test_client(base_url="http://localhost/chat")
    with pytest.raises(WebsocketDenied) as denied, client.websocket_connect("/room?id=7"):
        pass
    response = denied.value.response
    assert response.status_code == 308
    assert response.headers["Location"] == "/chat/room/?id=7"


def test_before_websocket_can_refuse_and_g_and_session_work() -> None:
    app = make_app()
    events: list[str] = []

    @app.before_websocket
    def check() -> Any:
        if "blocked" in websocket.args:
            return "go away", 401
        g.user = session.get("user", "anonymous")
        return None

    @app.after_websocket
    async def done(response: Any) -> Any:
        events.append(f"after {response!r}")
        return response

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "ok"

    @app.websocket("/whoami")
    async def whoami() -> None:
        await websocket.send_text(g.user)

    client = app.test_client()
    client.get("/login")
    with client.websocket_connect("/whoami") as ws:
        assert ws.receive_text() == "ada"
    with pytest.raises(WebsocketDenied) as denied, client.websocket_connect("/whoami?blocked"):
        pass
    assert (denied.value.response.status_code, denied.value.response.text) == (401, "go away")
    assert events == ["after None", "after ('go away', 401)"]


def test_error_after_accept_closes_with_1011_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    @app.websocket("/boom")
    async def boom() -> None:
        await websocket.send_text("first")
        raise ValueError("handler broke")

    with caplog.at_level(logging.ERROR), app.test_client().websocket_connect("/boom") as ws:
        assert ws.receive_text() == "first"
        with pytest.raises(WebsocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1011
    assert "handler broke" in caplog.text


def test_error_before_accept_propagates_in_testing_and_is_500_otherwise() -> None:
    app = make_app()

    @app.websocket("/early")
    async def early() -> None:
        raise KeyError("early failure")

    client = app.test_client()
    with pytest.raises(KeyError, match="early failure"), client.websocket_connect("/early"):
        pass
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with pytest.raises(WebsocketDenied) as denied, client.websocket_connect("/early"):
        pass
    assert denied.value.response.status_code == 500


def test_blueprint_websocket_and_hooks_scoped() -> None:
    app = make_app()
    bp = Blueprint("live", __name__, url_prefix="/live")
    calls: list[str] = []

    @bp.before_websocket
    async def bp_hook() -> None:
        calls.append(f"bp {websocket.blueprint}")

    @bp.websocket("/feed")
    async def feed() -> None:
        await websocket.send_text(websocket.endpoint or "")

    @app.websocket("/plain")
    async def plain() -> None:
        await websocket.send_text("plain")

    app.register_blueprint(bp)
    client = app.test_client()
    with client.websocket_connect("/live/feed") as ws:
        assert ws.receive_text() == "live.feed"
    with client.websocket_connect("/plain") as ws:
        assert ws.receive_text() == "plain"
    assert calls == ["bp live"]


async def test_async_client_websocket() -> None:
    app = make_app()

    @app.websocket("/upper")
    async def upper() -> None:
        async for message in websocket:
            await websocket.send_text(str(message).upper())

    async with app.async_test_client() as client, client.websocket_connect("/upper") as ws:
        await ws.send_text("quiet")
        assert await ws.receive_text() == "QUIET"


def test_websocket_local_outside_a_handler() -> None:
    with pytest.raises(RuntimeError, match="Working outside of websocket context"):
        websocket.path  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize(
    ("headers", "scheme", "server", "host"),
    [
        ([(b"host", b"chat.example")], "wss", ("10.0.0.1", 8443), "chat.example"),
        ([], "wss", ("example.org", 8443), "example.org:8443"),
        ([], "wss", ("example.org", 443), "example.org"),
        ([], "ws", ("example.org", 80), "example.org"),
        ([], "ws", None, "localhost"),
    ],
)
def test_host_and_url_as_a_requests(
    headers: list[tuple[bytes, bytes]], scheme: str, server: Any, host: str
) -> None:
    async def unused(*args: Any) -> Any:  # pragma: no cover
        raise AssertionError

    scope = {
        "type": "websocket", "path": "/chat", "query_string": b"a=1", "headers": headers,
        "scheme": scheme, "server": server,
    }  # fmt: skip
    ws = Websocket(scope, unused, unused)
    assert ws.host == host
    assert ws.url == f"{scheme}://{host}/chat?a=1"
