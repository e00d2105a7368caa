"""Clients that never read, or trickle, against a real uvicorn: nobody else is starved.

The app (tests/apps/hostile.py) has SYNC_THREAD_LIMIT = 2 and a sync teardown.
Each test opens more raw sockets than there are slots, makes them stall, and
checks that static files, a ``def`` view and async views still answer at once.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from .servers import Server, uvicorn

ATTACKERS = 6  # three times SYNC_THREAD_LIMIT
PROBES = [
    ("GET", "/static/small.txt", None, "small file"),
    ("GET", "/def", None, "def ok"),
    ("GET", "/async", None, "async ok"),
    ("POST", "/async-spool", b"x" * 200_000, '{"length":200000}'),
    ("POST", "/def-form", b"a=1&b=2", '{"fields":2}'),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    static = tmp_path_factory.mktemp("static")
    (static / "big.bin").write_bytes(b"b" * (8 * 1024 * 1024))
    (static / "small.txt").write_text("small file")
    server = uvicorn("tests.apps.hostile:app", env={"MICROASGI_TEST_STATIC": str(static)})
    server.wait_ready("/async")
    yield server
    server.stop()


def _connect(server: Server) -> socket.socket:
    sock = socket.socket()
    # A tiny receive window: the server's sends stall after a few kilobytes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    return sock


@contextmanager
def stalled(server: Server, requests: list[bytes]) -> Iterator[list[socket.socket]]:
    """Sockets that sent ``requests`` (each in full or in part) and then read nothing."""
    with ExitStack() as stack:
        socks = []
        for raw in requests:
            sock = stack.enter_context(_connect(server))
            sock.sendall(raw)
            socks.append(sock)
        time.sleep(1.0)  # let the server start answering them, and stall
        yield socks


def probe(server: Server) -> None:
    """Every probe answers correctly within a few seconds."""
    with httpx.Client(base_url=server.url, timeout=5) as client:
        for method, path, body, expected in PROBES:
            started = time.monotonic()
            response = client.request(
                method,
                path,
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"} if body else {},
            )
            assert response.status_code == 200, (path, response.status_code)
            assert response.text.strip() == expected
            assert time.monotonic() - started < 5, path


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


@pytest.mark.parametrize("path", ["/static/big.bin", "/send-big", "/sync-stream"])
def test_clients_that_never_read_the_response_starve_nobody(server: Server, path: str) -> None:
    with stalled(server, [_get(path)] * ATTACKERS) as socks:
        probe(server)
        # They really are stalled mid-response, not served and gone.
        first = socks[0].recv(65536)
        assert first.startswith(b"HTTP/1.1 200")


def test_clients_that_never_finish_the_body_starve_nobody(server: Server) -> None:
    head = "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500000\r\n\r\n"
    requests = [head.format(p).encode() + b"x" * 10 for p in ("/def-form", "/legacy/")]
    with stalled(server, requests * ATTACKERS):
        probe(server)
