"""tests/apps/matrix.py under every server we support, each started once for the module.

Servers: uvicorn, hypercorn (on asyncio, and on trio: ``--worker-class trio``),
granian (ASGI interface), gunicorn with 2 uvicorn workers, and ``microasgi run
--workers 2``. Against each: plain GET (async view), JSON POST (sync view, preloaded
body), streamed uploads read by sync and async views, a streamed response, a mounted
WSGI app, lifespan startup, a websocket round trip, the event loop library, and at teardown a
SIGTERM that must end the server cleanly with ``after_serving`` run in every worker
that answered a request.

What each server does on SIGTERM (found by running them, and asserted exactly):

- uvicorn (single process) shuts down gracefully, then re-raises the signal it
  caught, so the process ends killed by SIGTERM: returncode -15.
- uvicorn's multiprocess supervisor (``microasgi run --workers 2``) stops its
  workers (each runs lifespan shutdown) and returns normally: 0.
- hypercorn, granian and the gunicorn master shut down gracefully and exit 0.

Every server here speaks lifespan and websockets: granian only skips lifespan with
``--interface asginl``, and ``--ws`` is its default. gunicorn's worker class is
``uvicorn_worker.UvicornWorker`` from the ``uvicorn-worker`` package: the
``uvicorn.workers`` module uvicorn still ships is deprecated.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from .servers import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.apps.matrix:app"
TIMEOUT = 5.0  # seconds, for every request and websocket wait


@dataclass(frozen=True)
class Spec:
    """How to start one server, and what it is expected to do."""

    name: str
    args: Callable[[int], list[str]]
    workers: int
    sigterm_exit: int  # the returncode a graceful SIGTERM shutdown ends with
    app_in_main_process: bool  # does the process we start serve requests itself?
    header_timeout: float | None = None  # seconds a client has to send its request head
    event_loop: str = "asyncio"  # the async library the app runs on


SERVERS = [
    Spec(
        "uvicorn",
        lambda port: [
            *("-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port)),
            *("--log-level", "warning"),  # the output pipe is only read after exit
        ],
        workers=1,
        sigterm_exit=-signal.SIGTERM,
        app_in_main_process=True,
    ),
    Spec(
        "hypercorn",
        lambda port: ["-m", "hypercorn", APP, "--bind", f"127.0.0.1:{port}"],
        workers=1,
        sigterm_exit=0,
        # hypercorn serves in-process only with --workers 0; its default of 1
        # spawns one worker process.
        app_in_main_process=False,
    ),
    Spec(
        "hypercorn-trio",
        lambda port: [
            *("-m", "hypercorn", "--worker-class", "trio", APP),
            *("--bind", f"127.0.0.1:{port}"),
        ],
        workers=1,
        sigterm_exit=0,
        app_in_main_process=False,
        event_loop="trio",
    ),
    Spec(
        "granian",
        lambda port: [
            *("-m", "granian", "--interface", "asgi"),
            *("--host", "127.0.0.1", "--port", str(port), APP),
        ],
        workers=1,
        sigterm_exit=0,
        # granian always serves from a spawned worker process, even with one worker.
        app_in_main_process=False,
    ),
    Spec(
        "gunicorn",
        lambda port: [
            *("-m", "gunicorn", "-w", "2", "-k", "uvicorn_worker.UvicornWorker"),
            # gunicorn >= 25.1 opens a control socket in ~/.gunicorn by default.
            *("--no-control-socket", "-b", f"127.0.0.1:{port}", APP),
        ],
        workers=2,
        sigterm_exit=0,
        app_in_main_process=False,
    ),
    Spec(
        "microasgi-run",
        lambda port: [
            *("-m", "microasgi.cli", "--app", APP, "run"),
            *("--port", str(port), "--workers", "2", "--log-level", "warning"),
        ],
        workers=2,
        sigterm_exit=0,
        app_in_main_process=False,
    ),
    # microasgi run with the other servers, and their protective settings.
    Spec(
        "microasgi-run-granian",
        lambda port: [
            *("-m", "microasgi.cli", "--app", APP, "run", "--server", "granian"),
            *("--port", str(port), "--log-level", "warning", "--header-timeout", "1"),
        ],
        workers=1,
        sigterm_exit=0,
        app_in_main_process=False,
        header_timeout=1,
    ),
    Spec(
        "microasgi-run-hypercorn",
        lambda port: [
            *("-m", "microasgi.cli", "--app", APP, "run", "--server", "hypercorn"),
            *("--port", str(port), "--log-level", "warning", "--header-timeout", "1"),
        ],
        workers=1,
        sigterm_exit=0,
        app_in_main_process=False,
        header_timeout=1,
    ),
]


@dataclass
class Running:
    spec: Spec
    server: Server
    shutdown_file: Path
    client: httpx.Client
    seen_pids: set[int] = field(default_factory=set)

    def record(self, response: httpx.Response) -> None:
        self.seen_pids.add(int(response.headers["x-worker-pid"]))


@pytest.fixture(scope="module", params=SERVERS, ids=lambda spec: spec.name)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    spec: Spec = request.param
    shutdown_file = tmp_path_factory.mktemp(spec.name) / "shutdown.txt"
    port = free_port()
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    server = Server(
        [sys.executable, *spec.args(port)],
        port,
        env={"MATRIX_SHUTDOWN_FILE": str(shutdown_file), "PYTHONPATH": pythonpath},
    )
    server.wait_ready(timeout=20)
    # No keep-alive: every request is a new connection, so with several workers
    # any of them may take it.
    client = httpx.Client(
        base_url=server.url, timeout=TIMEOUT, limits=httpx.Limits(max_keepalive_connections=0)
    )
    run = Running(spec, server, shutdown_file, client)
    client.event_hooks["response"].append(run.record)
    try:
        yield run
    finally:
        client.close()
        code = server.stop(timeout=15)
    output = server.output()
    assert code == spec.sigterm_exit, f"{spec.name} exited {code} on SIGTERM:\n{output}"
    lines = shutdown_file.read_text().splitlines() if shutdown_file.exists() else []
    assert all(line.startswith("after_serving ") for line in lines), lines
    stopped = [int(line.split()[1]) for line in lines]
    # Once per worker at most (a worker still booting when SIGTERM came has
    # nothing to shut down), and in every worker that answered a request.
    assert len(stopped) == len(set(stopped)) <= spec.workers, (lines, output)
    assert run.seen_pids, "no request reached the server"
    assert run.seen_pids <= set(stopped), (
        f"after_serving did not run in {run.seen_pids - set(stopped)}:\n{output}"
    )


def test_plain_get(running: Running) -> None:
    response = running.client.get("/")
    assert response.status_code == 200
    assert response.text == "Hello, World!"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_json_post_echo(running: Running) -> None:
    payload = {"name": "ünï", "items": [1, 2.5, None, True], "nested": {"a": []}}
    response = running.client.post("/json", json=payload)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"echo": payload}


def test_streamed_response_arrives_complete(running: Running) -> None:
    with running.client.stream("GET", "/stream") as response:
        assert response.status_code == 200
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        body = b"".join(response.iter_raw())
    assert body == b"".join(f"chunk {i}\n".encode() for i in range(5))


def test_lifespan_startup_ran(running: Running) -> None:
    state = running.client.get("/lifespan").json()
    # before_serving ran, and from the server's lifespan startup rather than the
    # first-request fallback used when no lifespan scope ever arrives.
    assert state["lifespan_scope"] is True
    assert state["before_serving"] is True
    assert state["via_lifespan"] is True


def test_worker_pids(running: Running) -> None:
    pids = set()
    for _ in range(10):
        response = running.client.get("/pid")
        assert response.json()["pid"] == int(response.headers["x-worker-pid"])
        pids.add(response.json()["pid"])
    # Which worker takes a connection is the kernel's choice: with two workers, ten
    # requests may all land on one, so only an upper bound is certain.
    assert 1 <= len(pids) <= running.spec.workers
    main_pid = running.server.process.pid
    assert (pids == {main_pid}) is running.spec.app_in_main_process


def test_websocket_round_trip(running: Running) -> None:
    url = running.server.url.replace("http://", "ws://") + "/ws"
    with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        ws.send("hello")
        assert ws.recv(timeout=TIMEOUT) == "echo hello"
        ws.send("ünï " * 1000)
        assert ws.recv(timeout=TIMEOUT) == "echo " + "ünï " * 1000
        ws.send("bye")
        assert ws.recv(timeout=TIMEOUT) == "bye"
        # The handler then closes the connection normally.
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=TIMEOUT)
        assert ws.close_code == 1000


def test_the_event_loop(running: Running) -> None:
    assert running.client.get("/loop").json() == {"async": running.spec.event_loop}


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_streamed_upload(running: Running, kind: str) -> None:
    # A stream=True view reads the body as it arrives: on the loop, or from its
    # worker thread through the bridge.
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 25_000

    response = running.client.post(f"/upload/{kind}", content=chunks())
    assert response.status_code == 200
    assert response.json()["size"] == 1_000_000
    if kind == "sync":
        assert response.json()["thread"].startswith("microasgi-")


def test_mounted_wsgi_app(running: Running) -> None:
    response = running.client.post("/legacy/anything", content=b"y" * 300_000)
    assert response.status_code == 200
    assert response.text == "wsgi read 300000 bytes"


@pytest.mark.parametrize(
    "running",
    [spec for spec in SERVERS if spec.header_timeout is not None],
    ids=lambda spec: spec.name,
    indirect=True,
)
def test_a_connection_that_sends_nothing_is_closed(running: Running) -> None:
    # A slowloris client: connects, sends half a request head, then nothing.
    # uvicorn has no setting for it (docs/deployment.md); microasgi run sets
    # the others' header timeout.
    assert running.spec.header_timeout is not None
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        try:
            while sock.recv(4096):  # an error page, if any, then the close
                pass
        except ConnectionResetError:
            pass
        waited = time.monotonic() - started
    assert waited < running.spec.header_timeout + 5
