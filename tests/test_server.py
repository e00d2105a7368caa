"""The app under a real uvicorn on 127.0.0.1: streaming, disconnects, lifespan, shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .servers import Server, uvicorn


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = uvicorn("tests.apps.served:app")
    server.wait_ready()
    yield server
    server.stop()


def _state(server: Server) -> dict[str, int]:
    return httpx.get(f"{server.url}/state").json()  # type: ignore[no-any-return]


def test_plaintext_and_json_post(server: Server) -> None:
    response = httpx.get(server.url + "/")
    assert response.status_code == 200
    assert response.text == "Hello, World!"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    response = httpx.post(server.url + "/echo", json={"a": [1, 2]})
    assert response.json() == {"json": {"a": [1, 2]}, "thread": "sync"}


def test_lifespan_startup_ran_once(server: Server) -> None:
    assert _state(server)["started"] == 1


def test_streamed_response_arrives_in_chunks(server: Server) -> None:
    with httpx.stream("GET", server.url + "/stream/5") as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        body = b"".join(response.iter_raw())
    assert body == b"0\n1\n2\n3\n4\n"


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_client_disconnect_closes_the_generator(server: Server, kind: str) -> None:
    before = _state(server)[f"{kind}_closed"]
    with httpx.stream("GET", f"{server.url}/forever/{kind}") as response:
        first = next(response.iter_raw())
        assert first.startswith(b"x" if kind == "async" else b"y")
    # Leaving the block closed the connection mid-stream: the generator's
    # `finally` must run soon after, not never.
    deadline = time.monotonic() + 5
    while _state(server)[f"{kind}_closed"] == before:
        assert time.monotonic() < deadline, "generator was not closed after disconnect"
        time.sleep(0.05)


def test_websocket_round_trip(server: Server) -> None:
    url = server.url.replace("http://", "ws://")
    with connect(f"{url}/ws/echo") as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo: hi"
        ws.send(b"\x00\x01")
        assert ws.recv(timeout=5) == b"\x00\x01"


def test_websocket_refusal_is_an_http_response(server: Server) -> None:
    # uvicorn supports the websocket.http.response extension: the client gets
    # the app's 403 and its body, not a bare refusal.
    url = server.url.replace("http://", "ws://")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{url}/ws/private")
    assert refused.value.response.status_code == 403
    assert b"Members only." in refused.value.response.body


def test_sigterm_finishes_in_flight_requests_and_runs_after_serving(tmp_path: Path) -> None:
    marker = tmp_path / "shutdown.txt"
    server = uvicorn("tests.apps.served:app", env={"MICROASGI_TEST_SHUTDOWN_FILE": str(marker)})
    server.wait_ready()
    with httpx.Client() as client:
        result: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("r", client.get(f"{server.url}/slow?seconds=1"))
        )
        thread.start()
        time.sleep(0.3)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.stop() in (0, -15)
        thread.join()
    assert result["r"].status_code == 200
    assert result["r"].text == "finished"
    assert marker.read_text() == "after_serving ran"


def test_startup_failure_stops_the_server_with_the_message() -> None:
    server = uvicorn("tests.apps.served:broken")
    try:
        server.process.wait(20)
    finally:
        server.stop()
    output = server.output()
    assert server.process.returncode != 0
    assert "database unreachable" in output


@pytest.mark.parametrize("path", ["/fails-mid-stream", "/wsgi/"])
def test_a_body_that_fails_half_way_is_cut_off_not_ended(server: Server, path: str) -> None:
    # The status is out, so no 500 can be sent; ending the response cleanly would
    # pass the partial body off as whole. The connection is dropped instead, and
    # the client sees an incomplete body.
    with httpx.stream("GET", server.url + path) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
