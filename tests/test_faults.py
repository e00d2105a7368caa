"""Faults on the server side, clients that leave, and every worker thread busy.

DESIGN.md section 3: a server error is logged with its traceback and answered
with a bare 500; once the headers are out (a streamed body), the response ends.
Either way the app keeps serving: every test here sends another request after
the fault and expects a 200.

Clients that disconnect, mid-upload or mid-download, must leave nothing behind:
the body generator is closed (its ``finally`` runs), teardown runs, and no thread
or task is leaked. Sync work beyond ``SYNC_THREAD_LIMIT`` queues rather than
failing, and nothing deadlocks when every worker thread is busy.

The app is driven directly over ASGI, so disconnects can be timed exactly.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import anyio
import pytest
import werkzeug.exceptions

from microasgi import (
    Blueprint,
    MicroASGI,
    Response,
    WSGIApp,
    render_template_string,
    request,
    session,
    stream_template_string,
    stream_with_context,
)
from microasgi.exceptions import ClientGone
from microasgi.sessions import SecureCookieSessionInterface

from .asgi import http_scope

SECRET = "SECRET-DETAIL-7f3a"  # in every raised message; must never reach a client


class Boom(Exception):
    """The fault every test raises."""


def boom(where: str) -> Boom:
    return Boom(f"{SECRET} in {where}")


# -- driving the app -------------------------------------------------------------------------


def scope(
    path: str = "/ok", method: str = "GET", headers: Iterable[tuple[bytes, bytes]] = ()
) -> dict[str, Any]:
    return http_scope(path, method, headers=headers)


class Wire:
    """receive/send for one request.

    The body is handed out in ``chunks`` (``delay`` seconds apart). With
    ``leave_after_chunks=n`` the client disconnects instead of sending body
    message ``n``; with ``leave_after_sent=n`` it disconnects once ``n`` response
    body messages have arrived (mid-download).
    """

    def __init__(
        self,
        chunks: Iterable[bytes] = (),
        *,
        leave_after_chunks: int | None = None,
        leave_after_sent: int | None = None,
        delay: float = 0,
    ) -> None:
        self.chunks = list(chunks) or [b""]
        self.leave_after_chunks = leave_after_chunks
        self.leave_after_sent = leave_after_sent
        self.delay = delay
        self.delivered = 0
        self.messages: list[dict[str, Any]] = []
        self.done = anyio.Event()  # the response is complete, or the client left
        self.left = False

    async def receive(self) -> dict[str, Any]:
        if self.delay:
            await anyio.sleep(self.delay)
        if self.leave_after_chunks is not None and self.delivered >= self.leave_after_chunks:
            self.left = True
            self.done.set()
            return {"type": "http.disconnect"}
        if self.delivered < len(self.chunks):
            index = self.delivered
            self.delivered += 1
            more = index + 1 < len(self.chunks) or self.leave_after_chunks is not None
            return {"type": "http.request", "body": self.chunks[index], "more_body": more}
        await self.done.wait()
        self.left = True
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.left:
            raise OSError("the client is gone")  # as ASGI 2.4 servers do
        self.messages.append(message)
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                self.done.set()
            elif self.leave_after_sent is not None and len(self.bodies) >= self.leave_after_sent:
                self.done.set()  # the next receive() is the disconnect

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def status(self) -> int:
        assert self.messages and self.messages[0]["type"] == "http.response.start"
        return int(self.messages[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.bodies)

    @property
    def complete(self) -> bool:
        return bool(self.bodies) and not self.bodies[-1].get("more_body", False)


async def call(app: Any, sc: dict[str, Any], wire: Wire | None = None, timeout: float = 20) -> Wire:
    wire = wire or Wire()
    with anyio.fail_after(timeout):  # a hang fails the test instead of stalling the run
        await app(sc, wire.receive, wire.send)
    return wire


async def next_request_works(app: MicroASGI) -> None:
    wire = await call(app, scope("/ok"))
    assert (wire.status, wire.body) == (200, b"ok"), "the app stopped serving"


def assert_bare_500(wire: Wire) -> None:
    assert wire.status == 500, wire.body[:300]
    assert wire.complete
    text = wire.body.decode("utf-8", "replace")
    assert "Internal Server Error" in text
    assert SECRET not in text
    assert "Traceback" not in text
    assert "Boom" not in text


def logged_with_traceback(caplog: pytest.LogCaptureFixture, exc_type: type = Boom) -> None:
    """An ERROR record carries ``exc_type`` (raised, or in the chain) with its traceback."""

    def chain(exc: BaseException | None) -> Iterator[BaseException]:
        while exc is not None:
            yield exc
            exc = exc.__cause__ or exc.__context__

    for record in caplog.records:
        exc = record.exc_info[1] if record.exc_info else None
        if record.levelno >= logging.ERROR and any(isinstance(e, exc_type) for e in chain(exc)):
            assert record.exc_info and record.exc_info[2] is not None, "no traceback logged"
            assert "Traceback (most recent call last)" in caplog.text
            return
    pytest.fail(f"no ERROR record with a {exc_type.__name__} traceback: {caplog.text[:500]}")


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


@pytest.fixture
def app() -> MicroASGI:
    app = MicroASGI("faults", static_folder=None)
    app.config.update(PROPAGATE_EXCEPTIONS=False, SECRET_KEY="fault secret")
    app.extensions["events"] = []

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    return app


def events(app: MicroASGI) -> list[Any]:
    return app.extensions["events"]  # type: ignore[no-any-return]


def raiser(where: str, kind: str, only: str | None = None) -> Callable[..., Any]:
    """A sync or async function raising :class:`Boom` (with ``only``: on that path only)."""

    def fail(*args: Any) -> Any:
        if only is None or request.path == only:
            raise boom(where)
        return args[0] if args else None  # an after_request hook returns the response

    if kind == "sync":
        return fail

    async def afail(*args: Any) -> Any:
        return fail(*args)

    return afail


# -- faults before the response: a logged, bare 500 ---------------------------------------------


def _view(app: MicroASGI, kind: str) -> str:
    app.add_url_rule("/fault", "fault", raiser("view", kind))
    return "/fault"


def _before_request(app: MicroASGI, kind: str) -> str:
    app.before_request(raiser("before_request", kind, only="/fault"))
    app.add_url_rule("/fault", "fault", lambda: "unreached")
    return "/fault"


def _after_request(app: MicroASGI, kind: str) -> str:
    app.after_request(raiser("after_request", kind, only="/fault"))
    app.add_url_rule("/fault", "fault", lambda: "fine")
    return "/fault"


def _error_handler(app: MicroASGI, kind: str) -> str:
    # The 404 handler itself raises: a bare 500, never the handler's traceback.
    app.register_error_handler(404, raiser("404 handler", kind))
    return "/missing"


def _blueprint_error_handler(app: MicroASGI, kind: str) -> str:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.register_error_handler(KeyError, raiser("blueprint KeyError handler", kind))

    @bp.get("/item")
    def item() -> str:
        return {}["missing"]  # type: ignore[no-any-return]

    app.register_blueprint(bp)
    return "/bp/item"


def _500_handler(app: MicroASGI, kind: str) -> str:
    app.register_error_handler(500, raiser("500 handler", kind))
    app.add_url_rule("/fault", "fault", raiser("view", kind))
    return "/fault"


def _template(app: MicroASGI, kind: str) -> str:
    def view() -> str:
        return render_template_string("<p>{{ 42 | no_such_filter }}</p>")

    async def aview() -> str:
        return view()

    app.add_url_rule("/fault", "fault", view if kind == "sync" else aview)
    return "/fault"


def _context_processor(app: MicroASGI, kind: str) -> str:
    app.context_processor(raiser("context processor", "sync"))
    return _template_ok(app, kind)


def _template_ok(app: MicroASGI, kind: str) -> str:
    def view() -> str:
        return render_template_string("<p>{{ 42 }}</p>")

    async def aview() -> str:
        return view()

    app.add_url_rule("/fault", "fault", view if kind == "sync" else aview)
    return "/fault"


class _BrokenSave(SecureCookieSessionInterface):
    def save_session(self, app: Any, session: Any, response: Any) -> None:
        raise boom("save_session")


class _BrokenOpen(SecureCookieSessionInterface):
    def open_session(self, app: Any, request: Any) -> Any:
        raise boom("open_session")


def _session_save(app: MicroASGI, kind: str) -> str:
    app.session_interface = _BrokenSave()

    def view() -> str:
        session["n"] = 1
        return "saved?"

    async def aview() -> str:
        return view()

    app.add_url_rule("/fault", "fault", view if kind == "sync" else aview)
    return "/fault"


def _session_open(app: MicroASGI, kind: str) -> str:
    app.session_interface = _BrokenOpen()

    def view() -> str:
        return str(session.get("n"))

    async def aview() -> str:
        return view()

    app.add_url_rule("/fault", "fault", view if kind == "sync" else aview)
    return "/fault"


def _bad_return(app: MicroASGI, kind: str) -> str:
    def view() -> Any:
        return object()  # not a valid response: a TypeError, a server error

    async def aview() -> Any:
        return view()

    app.add_url_rule("/fault", "fault", view if kind == "sync" else aview)
    return "/fault"


FAULTS: dict[str, tuple[Callable[[MicroASGI, str], str], type]] = {
    "view": (_view, Boom),
    "before_request": (_before_request, Boom),
    "after_request": (_after_request, Boom),
    "404-handler": (_error_handler, Boom),
    "blueprint-handler": (_blueprint_error_handler, Boom),
    "500-handler": (_500_handler, Boom),
    "template-undefined-filter": (_template, Exception),
    "context-processor": (_context_processor, Boom),
    "session-save": (_session_save, Boom),
    "session-open": (_session_open, Boom),
    "bad-return-value": (_bad_return, TypeError),
}


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_is_a_logged_bare_500(
    app: MicroASGI, fault: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    setup, exc_type = FAULTS[fault]
    path = setup(app, kind)
    with caplog.at_level(logging.ERROR):
        for _ in range(2):  # and again: the fault does not wedge anything
            assert_bare_500(await call(app, scope(path)))
            await next_request_works(app)
    logged_with_traceback(caplog, exc_type)
    if fault == "template-undefined-filter":
        assert "no_such_filter" in caplog.text


@pytest.mark.parametrize("hook", ["teardown_request", "teardown_appcontext"])
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_teardown_fault_is_logged_and_the_response_stands(
    app: MicroASGI, hook: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    getattr(app, hook)(raiser(hook, kind))
    later: list[str] = []
    getattr(app, hook)(lambda error: later.append("ran"))  # runs first (reversed order)
    with caplog.at_level(logging.ERROR):
        wire = await call(app, scope("/ok"))
    assert (wire.status, wire.body) == (200, b"ok")
    logged_with_traceback(caplog)
    assert later == ["ran"]
    await next_request_works(app)
    assert later == ["ran", "ran"]


# -- a mounted WSGI app that raises ------------------------------------------------------------


def _wsgi_app(mode: str, closed: list[str]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if mode == "before-start":
            raise boom("wsgi before start_response")
        start_response("200 OK", [("Content-Type", "text/plain")])
        if mode == "after-start":
            raise boom("wsgi after start_response")

        class Body:
            def __iter__(self) -> Iterator[bytes]:
                yield b"one,"
                yield b"two,"
                raise boom("wsgi mid-iteration")

            def close(self) -> None:
                closed.append("closed")

        return Body()

    return app


@pytest.mark.parametrize("mode", ["before-start", "after-start", "mid-iteration"])
async def test_mounted_wsgi_app_that_raises(
    app: MicroASGI, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[str] = []
    app.mount("/legacy", WSGIApp(_wsgi_app(mode, closed)))
    with caplog.at_level(logging.ERROR):
        wire = await call(app, scope("/legacy/x"))
    logged_with_traceback(caplog)
    if mode == "mid-iteration":
        assert (wire.status, wire.body) == (200, b"one,two,")
        # Cut off, not ended: the server drops the connection, so the client
        # sees the body is incomplete (test_server.py checks it under uvicorn).
        assert not wire.complete
        assert closed == ["closed"]
    else:
        assert wire.complete, "the response was not ended"
        assert wire.status == 500
        assert wire.body == b"Internal Server Error"
    await next_request_works(app)


# -- faults mid-stream: logged, the response ends ------------------------------------------------


def _stream_routes(app: MicroASGI) -> None:
    """Routes whose body fails after two chunks; each notes its cleanup in events."""
    log = events(app)

    @app.get("/gen/sync")
    def sync_gen() -> Response:
        def chunks() -> Iterator[str]:
            try:
                yield "one,"
                yield "two,"
                raise boom("sync generator")
            finally:
                log.append("closed")

        return Response(chunks())

    @app.get("/gen/async")
    async def async_gen() -> Any:
        async def chunks() -> AsyncIterator[str]:
            try:
                yield "one,"
                yield "two,"
                raise boom("async generator")
            finally:
                log.append("closed")

        return chunks()

    @app.get("/gen/context")
    def context_gen() -> Response:
        @stream_with_context
        def chunks() -> Iterator[str]:
            try:
                yield "one,"
                yield "two," if request.path == "/gen/context" else "?"  # the context is there
                raise boom("stream_with_context generator")
            finally:
                log.append("closed")

        return Response(chunks())

    @app.get("/gen/template")
    def template_gen() -> Response:
        log.append("closed")  # a template stream has no finally of its own
        return Response(
            stream_template_string("one,{{ 'two,' }}{{ fail() }}", fail=raiser("template", "sync"))
        )

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        log.append(("teardown", type(error).__name__ if error else None))


@pytest.mark.parametrize("kind", ["sync", "async", "context", "template"])
async def test_generator_failing_mid_stream(
    app: MicroASGI, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    _stream_routes(app)
    with caplog.at_level(logging.ERROR):
        wire = await call(app, scope(f"/gen/{kind}"))
    # Headers were out, so no 500 can be sent: what was produced went out, then
    # the response ends (call() returned: nothing waits for more).
    assert wire.status == 200
    assert wire.body == b"one,two,"
    assert [m["type"] for m in wire.messages].count("http.response.start") == 1
    logged_with_traceback(caplog)
    assert SECRET not in wire.body.decode()
    assert "closed" in events(app)
    assert any(isinstance(e, tuple) and e[0] == "teardown" for e in events(app))
    await next_request_works(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_generator_failing_before_its_first_chunk_is_a_bare_500(
    app: MicroASGI, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing was produced yet, so nothing forces the 200 out: as under a WSGI server
    # (headers go with the first chunk), the failure is still a logged, bare 500.
    # Sending the 200 first leaves a response that claims success and never ends.
    @app.get("/early/sync")
    def early_sync() -> Response:
        def chunks() -> Iterator[str]:
            raise boom("sync generator, before its first chunk")
            yield "never"

        return Response(chunks())

    @app.get("/early/async")
    async def early_async() -> Any:
        async def chunks() -> AsyncIterator[str]:
            raise boom("async generator, before its first chunk")
            yield "never"

        return chunks()

    with caplog.at_level(logging.ERROR):
        wire = await call(app, scope(f"/early/{kind}"))
    logged_with_traceback(caplog)
    assert_bare_500(wire)
    await next_request_works(app)


def _upload_routes(app: MicroASGI) -> None:
    log = events(app)
    app.config["BODY_MEMORY_LIMIT"] = 16  # the preloaded bodies spool to a file

    @app.post("/upload/preload-sync")
    def preload_sync() -> str:
        log.append("view ran")
        return str(len(request.data))

    @app.post("/upload/preload-async")
    async def preload_async() -> str:
        log.append("view ran")
        return str(len(request.form))

    @app.post("/upload/stream-sync", stream=True)
    def stream_sync() -> str:
        try:
            return str(len(request.stream.read()))
        except Exception as exc:
            log.append(exc)
            raise
        finally:
            log.append("closed")

    @app.post("/upload/stream-async", stream=True)
    async def stream_async() -> str:
        try:
            return str(len(await request.stream.aread()))
        except Exception as exc:
            log.append(exc)
            raise
        finally:
            log.append("closed")

    def wsgi_reader(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            body = environ["wsgi.input"].read()
        except Exception as exc:
            log.append(exc)
            raise
        finally:
            log.append("closed")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(len(body)).encode()]

    app.mount("/wsgi-up", WSGIApp(wsgi_reader))

    @app.errorhandler(400)
    @app.errorhandler(Exception)
    def handler(error: Exception) -> str:  # pragma: no cover - must not run
        log.append("handler ran")
        return "handled"

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        log.append("teardown")


UPLOADS = ["preload-sync", "preload-async", "stream-sync", "stream-async", "wsgi"]


def _upload_path(route: str) -> str:
    return "/wsgi-up/upload" if route == "wsgi" else f"/upload/{route}"


@pytest.mark.parametrize("route", UPLOADS)
async def test_disconnect_mid_request_body(
    app: MicroASGI, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    _upload_routes(app)
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    wire = Wire([b"a=" + b"x" * 40, b"&b=" + b"y" * 40, b"&c=1"], leave_after_chunks=2)
    with caplog.at_level(logging.ERROR):
        await call(app, scope(_upload_path(route), "POST", headers), wire)
    assert wire.messages == [], "answered a client that had left"
    assert "view ran" not in events(app)
    if route.startswith(("stream", "wsgi")):
        assert "closed" in events(app), "the reader was not unwound"
        # What the reader saw: one class, which Flask code knows as Werkzeug's
        # ClientDisconnected and WSGI code as a socket error.
        [gone] = [e for e in events(app) if isinstance(e, BaseException)]
        assert type(gone) is ClientGone
        assert isinstance(gone, werkzeug.exceptions.ClientDisconnected)
        assert isinstance(gone, OSError)
    assert "handler ran" not in events(app), "an error handler answered nobody"
    if route != "wsgi":
        assert "teardown" in events(app)
    no_errors_logged(caplog)  # a client leaving is not a server error
    await next_request_works(app)


def _download_routes(app: MicroASGI) -> None:
    log = events(app)

    def endless() -> Iterator[str]:
        try:
            while True:
                yield "x" * 100
        finally:
            log.append("closed")

    @app.get("/download/sync")
    def sync_gen() -> Response:
        return Response(endless())

    @app.get("/download/async")
    async def async_gen() -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"y" * 100
                    await anyio.sleep(0)
            finally:
                log.append("closed")

        return chunks()

    @app.get("/download/context")
    def context_gen() -> Response:
        return Response(stream_with_context(endless()))

    def wsgi_endless(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            while True:
                yield b"z" * 100
        finally:
            log.append("closed")

    app.mount("/wsgi-down", WSGIApp(wsgi_endless))

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        log.append("teardown")


DOWNLOADS = ["/download/sync", "/download/async", "/download/context", "/wsgi-down/x"]


@pytest.mark.parametrize("path", DOWNLOADS)
async def test_disconnect_mid_stream(
    app: MicroASGI, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    _download_routes(app)
    wire = Wire(leave_after_sent=3)
    with caplog.at_level(logging.ERROR):
        await call(app, scope(path), wire)
    assert wire.status == 200
    assert len(wire.bodies) >= 3
    assert "closed" in events(app), "the generator was not closed"
    if not path.startswith("/wsgi"):
        assert "teardown" in events(app)
    no_errors_logged(caplog)
    await next_request_works(app)


async def test_disconnects_leak_no_threads_or_tasks(
    app: MicroASGI, caplog: pytest.LogCaptureFixture
) -> None:
    _upload_routes(app)
    _download_routes(app)
    app.config["SYNC_THREAD_LIMIT"] = 8
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]

    async def one_round() -> None:
        async with anyio.create_task_group() as tg:
            for route in UPLOADS:
                wire = Wire([b"a=" + b"x" * 40] * 5, leave_after_chunks=2)
                tg.start_soon(call, app, scope(_upload_path(route), "POST", headers), wire)
            for path in DOWNLOADS:
                tg.start_soon(call, app, scope(path), Wire(leave_after_sent=2))

    threads: list[int] = []
    tasks: list[int] = []
    baseline_tasks = len(asyncio.all_tasks())
    with caplog.at_level(logging.ERROR), anyio.fail_after(60):
        for _ in range(8):
            for _ in range(5):
                await one_round()
            await anyio.sleep(0.05)  # let finished threads and tasks wind down
            threads.append(threading.active_count())
            tasks.append(len(asyncio.all_tasks()))
    no_errors_logged(caplog)
    # The bridge keeps idle workers (up to 64) and anyio idle threads for reuse: the
    # count may rise in the first rounds, but it must not keep growing. A later
    # round may still reach a higher peak of concurrency than the first three on a
    # busy machine (a thread or two more); a leak adds one per disconnect: dozens a round.
    assert max(threads[3:]) <= max(threads[:3]) + 4, f"threads grow: {threads}"
    assert tasks == [baseline_tasks] * len(tasks), f"tasks left behind: {tasks}"
    await next_request_works(app)


# -- the thread limit: queue, never fail, never deadlock -----------------------------------------


async def test_sync_views_beyond_the_limit_queue(app: MicroASGI) -> None:
    app.config["SYNC_THREAD_LIMIT"] = 2
    lock = threading.Lock()
    running = peak = 0

    def track() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    @app.before_request
    def hook() -> None:
        time.sleep(0.005)

    @app.get("/slow/<int:n>")
    def slow(n: int) -> str:
        track()
        return f"done {n}"

    @app.get("/slow-gen/<int:n>")
    def slow_gen(n: int) -> Response:
        def chunks() -> Iterator[str]:
            track()
            yield f"gen {n}"

        return Response(chunks())

    results: dict[int, tuple[int, bytes]] = {}

    async def fetch(n: int) -> None:
        path = f"/slow/{n}" if n % 2 else f"/slow-gen/{n}"
        wire = await call(app, scope(path))
        results[n] = (wire.status, wire.body)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for n in range(10):
                tg.start_soon(fetch, n)
    assert results == {n: (200, (f"done {n}" if n % 2 else f"gen {n}").encode()) for n in range(10)}
    assert peak == 2


async def test_async_views_answer_while_every_worker_is_busy(app: MicroASGI) -> None:
    app.config["SYNC_THREAD_LIMIT"] = 2
    release = threading.Event()
    started = threading.Semaphore(0)

    @app.get("/blocked/<int:n>")
    def blocked(n: int) -> str:
        started.release()
        release.wait(20)
        return f"unblocked {n}"

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"wsgi"]

    app.mount("/wsgi", WSGIApp(wsgi))
    results: dict[str, tuple[int, bytes]] = {}

    async def fetch(path: str) -> None:
        wire = await call(app, scope(path))
        results[path] = (wire.status, wire.body)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for n in range(4):  # two run, two wait for a thread
                tg.start_soon(fetch, f"/blocked/{n}")
            for _ in range(2):
                await anyio.to_thread.run_sync(started.acquire)
            tg.start_soon(fetch, "/wsgi/x")  # needs a thread too: queued
            # Every worker is busy; async views need none and still answer.
            await next_request_works(app)
            assert not any(path.startswith("/blocked") for path in results)
            release.set()
    assert results == {
        **{f"/blocked/{n}": (200, f"unblocked {n}".encode()) for n in range(4)},
        "/wsgi/x": (200, b"wsgi"),
    }


async def test_stream_reading_sync_views_at_limit_one_do_not_deadlock(app: MicroASGI) -> None:
    # One worker thread; several sync views each read a slowly arriving stream=True
    # body through request.stream.read(), beside preloaded (spooled) bodies, a
    # WSGI app reading its input and sync generators: all must finish.
    app.config.update(SYNC_THREAD_LIMIT=1, BODY_MEMORY_LIMIT=8)

    @app.post("/read", stream=True)
    def read() -> str:
        total = b""
        while part := request.stream.read(5):
            total += part
        return total.decode()

    @app.post("/preload")
    def preload() -> str:
        return request.get_data(as_text=True)

    @app.get("/gen")
    def gen() -> Response:
        return Response(iter(["a", "b", "c"]))

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    app.mount("/wsgi", WSGIApp(wsgi))
    chunks = [b"chunk-%d;" % i for i in range(6)]
    expected = b"".join(chunks)
    jobs = [("/read", "POST")] * 5 + [("/preload", "POST")] * 3 + [("/wsgi/in", "POST")] * 3
    jobs += [("/gen", "GET")] * 3
    results: list[tuple[str, int, bytes]] = []

    async def fetch(path: str, method: str) -> None:
        wire = Wire(chunks if method == "POST" else [], delay=0.005)
        await call(app, scope(path, method), wire)
        results.append((path, wire.status, wire.body))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for path, method in jobs:
                tg.start_soon(fetch, path, method)
    assert len(results) == len(jobs)
    for path, status, body in results:
        assert status == 200, (path, body)
        assert body == (b"abc" if path == "/gen" else expected), path


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_streamed_response_may_read_the_request_body(app: MicroASGI, kind: str) -> None:
    # A stream=True route answering with a generator that reads the body as it
    # streams (a transforming proxy, an echo). The response's disconnect watcher
    # must not consume the request's body messages.
    @app.post("/upper/async", stream=True)
    async def upper_async() -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in request.stream:
                yield chunk.upper()

        return chunks()

    @app.post("/upper/sync", stream=True)
    def upper_sync() -> Response:
        @stream_with_context
        def chunks() -> Iterator[bytes]:
            while part := request.stream.read(4):
                yield part.upper()

        return Response(chunks())

    wire = Wire([b"abcd", b"efgh", b"ijkl", b"mnop"], delay=0.01)
    await call(app, scope(f"/upper/{kind}", "POST"), wire, timeout=5)
    assert wire.status == 200
    assert wire.body == b"ABCDEFGHIJKLMNOP"
    assert wire.complete
    await next_request_works(app)
