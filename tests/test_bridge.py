"""The thread bridge: a worker thread per request while it needs one; bounded, no deadlock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest

from microasgi import Blueprint, MicroASGI, after_this_request, g, request, send_file
from microasgi.bridge import run_in_request_thread
from microasgi.lifespan import run_lifespan

from .asgi import Wire, http_scope


def served_get(app: MicroASGI, path: str = "/") -> str:
    """A GET as a server makes it: the sync test client would run ``def`` views on
    the test's own thread (as Flask's), not in the pool's threads tested here."""
    wire = Wire()
    anyio.run(app, http_scope(path), wire.receive, wire.send)
    return wire.text


async def leave_two_idle_threads() -> None:
    """Two sync requests at once: the pool then has a spare idle thread, so a
    second lease for one request would land on another thread (and show)."""
    app = make_app()
    both_running = threading.Barrier(2)

    @app.get("/")
    def both() -> str:
        both_running.wait(5)
        return "both"

    async with app.async_test_client() as client, anyio.create_task_group() as tg:
        tg.start_soon(client.get, "/")
        tg.start_soon(client.get, "/")


def make_app() -> MicroASGI:
    app = MicroASGI("bridge_app", static_folder=None)
    app.config["TESTING"] = True
    return app


def test_hooks_view_generator_and_teardown_share_one_thread() -> None:
    app = make_app()
    seen: dict[str, int] = {}

    @app.before_request
    def before() -> None:
        seen["before"] = threading.get_ident()

    @app.after_request
    def after(response: Any) -> Any:
        seen["after"] = threading.get_ident()
        return response

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        seen["teardown"] = threading.get_ident()

    @app.get("/")
    def view() -> Iterator[str]:
        seen["view"] = threading.get_ident()

        def chunks() -> Iterator[str]:
            seen["generator"] = threading.get_ident()
            yield "done"

        return chunks()

    assert served_get(app) == "done"
    assert len(set(seen.values())) == 1, seen
    assert seen["view"] != threading.get_ident()


def test_sqlite_connection_on_g_works_under_concurrency(tmp_path: Path) -> None:
    """Flask's tutorial pattern: a thread-bound connection opened in a hook, closed in teardown."""
    app = make_app()
    database = str(tmp_path / "app.db")
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE hits (n INTEGER)")

    @app.before_request
    def open_db() -> None:
        g.db = sqlite3.connect(database)  # check_same_thread left at its default (True)

    @app.teardown_appcontext
    def close_db(error: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.post("/hit/<int:n>")
    def hit(n: int) -> dict[str, int]:
        g.db.execute("INSERT INTO hits VALUES (?)", (n,))
        g.db.commit()
        count = g.db.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
        return {"n": n, "count": count}

    async def hammer() -> list[int]:
        statuses: list[int] = []
        async with app.async_test_client() as client:

            async def one(n: int) -> None:
                statuses.append((await client.post(f"/hit/{n}")).status_code)

            async with anyio.create_task_group() as tg:
                for n in range(60):
                    tg.start_soon(one, n)
        return statuses

    assert anyio.run(hammer) == [200] * 60
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM hits").fetchone()[0] == 60


def test_file_bodies_do_not_deadlock_at_the_thread_limit(tmp_path: Path) -> None:
    app = make_app()
    app.config["SYNC_THREAD_LIMIT"] = 1
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * 65536 + 5))

    @app.get("/file")
    def file() -> Any:
        return send_file(big)

    async def fetch_all() -> list[int]:
        sizes: list[int] = []
        async with app.async_test_client() as client:

            async def one() -> None:
                sizes.append(len((await client.get("/file")).data))

            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    for _ in range(4):
                        tg.start_soon(one)
        return sizes

    assert anyio.run(fetch_all) == [3 * 65536 + 5] * 4


def test_sync_view_may_call_into_the_event_loop() -> None:
    app = make_app()

    async def loop_side(value: str) -> str:
        await anyio.sleep(0)
        return value.upper()

    @app.get("/")
    def view() -> str:
        return anyio.from_thread.run(loop_side, request.args["v"])

    assert app.test_client().get("/?v=abc").text == "ABC"


def test_the_thread_is_given_back_and_reused() -> None:
    app = make_app()
    threads: list[int] = []

    @app.get("/")
    def view() -> str:
        threads.append(threading.get_ident())
        return "ok"

    def workers() -> int:
        return sum(t.name == "microasgi-request" for t in threading.enumerate())

    served_get(app)
    started = workers()
    for _ in range(5):
        served_get(app)
    # Sequential requests reuse idle workers rather than starting new threads.
    assert workers() == started
    assert app._workers._idle > 0, "the worker went back to the idle pool"
    assert len(threads) == 6 and threading.get_ident() not in threads


def test_a_failing_view_still_gives_the_thread_back() -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["SYNC_THREAD_LIMIT"] = 1

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    @app.get("/fine")
    def fine() -> str:
        return "fine"

    client = app.test_client()
    for _ in range(3):  # with one slot, a leaked lease would hang the next request
        assert client.get("/boom").status_code == 500
    assert client.get("/fine").text == "fine"


async def test_outside_a_request_it_is_a_plain_thread_hop() -> None:
    assert await run_in_request_thread(threading.get_ident) != threading.get_ident()


async def test_an_app_context_without_a_request_keeps_no_thread_slot() -> None:
    # Sync lifespan functions and app-context hooks hop to a thread and give the
    # slot back at once: nothing would end a lease taken there (a lifespan context
    # is never popped), and with SYNC_THREAD_LIMIT = 1 every sync view would wait.
    app = make_app()
    app.config["SYNC_THREAD_LIMIT"] = 1
    threads: list[int] = []

    @app.before_serving
    def start() -> None:
        threads.append(threading.get_ident())

    with anyio.fail_after(5):  # a slot kept by startup would make this wait forever
        await app.startup()
        async with app.app_context():
            threads.append(await run_in_request_thread(threading.get_ident))
            assert app._thread_limiter().borrowed_tokens == 0
    assert app._thread_limiter().borrowed_tokens == 0
    assert threading.get_ident() not in threads
    await app.shutdown()


async def test_a_cancelled_request_waits_for_its_started_call_then_frees_the_slot() -> None:
    # As with anyio.to_thread.run_sync: a call that started is never abandoned
    # mid-way; the cancellation takes effect once it returns.
    app = make_app()
    app.config["SYNC_THREAD_LIMIT"] = 1
    started, release = threading.Event(), threading.Event()
    events: list[str] = []

    @app.get("/slow")
    def slow() -> str:
        started.set()
        release.wait(10)
        events.append("view returned")
        return "slow"

    @app.get("/fast")
    def fast() -> str:
        return "fast"

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        return {}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with anyio.create_task_group() as tg:

        async def request_then_note() -> None:
            with anyio.CancelScope() as scope_:
                cancel_scopes.append(scope_)
                await app(http_scope("/slow"), receive, send)
            events.append("request ended")

        cancel_scopes: list[anyio.CancelScope] = []
        tg.start_soon(request_then_note)
        await anyio.to_thread.run_sync(started.wait, 10)
        cancel_scopes[0].cancel()
        await anyio.sleep(0.05)
        assert events == []  # still waiting for the view
        release.set()
    assert events == ["view returned", "request ended"]
    # The one slot is free again: another sync request gets through.
    sent.clear()
    with anyio.fail_after(5):
        await app(http_scope("/fast"), receive, send)
    assert sent[-1]["body"] == b"fast"


@pytest.mark.parametrize(
    ("body", "teardown"),
    [
        ("text", False),
        ("text", True),  # the request ends before its complete body is sent
        ("file", True),  # read by run_io, from the loop
        ("sync-generator", True),  # a step holds a slot only while it runs
        ("async-generator", True),
    ],
)
async def test_a_slow_client_holds_no_slot_while_its_response_is_sent(
    tmp_path: Path, body: str, teardown: bool
) -> None:
    # Without a sync teardown the view's thread goes back to the pool when it
    # returns; with one, the request gives back its slot while the client reads.
    # Either way a slow client does not hold one of SYNC_THREAD_LIMIT.
    app = make_app()
    app.config["SYNC_THREAD_LIMIT"] = 1
    other_answered = anyio.Event()
    (tmp_path / "slow").write_text("slow")
    threads: list[int] = []

    if teardown:

        @app.teardown_request
        def end(error: BaseException | None) -> None:
            threads.append(threading.get_ident())

    @app.get("/<name>")
    def view(name: str) -> Any:
        threads.append(threading.get_ident())
        if name != "slow" or body == "text":
            return name
        if body == "file":
            return send_file(tmp_path / "slow")

        def steps() -> Iterator[str]:
            yield "sl"
            yield "ow"

        async def async_steps() -> AsyncIterator[str]:
            yield "slow"

        return steps() if body == "sync-generator" else async_steps()

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        return {}

    async def slow_client(message: dict[str, Any]) -> None:
        await other_answered.wait()  # this client reads only once the other is served

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def other() -> None:
        await app(http_scope("/other"), receive, send)
        other_answered.set()

    with anyio.fail_after(5):  # one slot held while sending would wait forever
        async with anyio.create_task_group() as tg:
            tg.start_soon(app, http_scope("/slow"), receive, slow_client)
            await anyio.sleep(0.05)
            tg.start_soon(other)
    assert sent[-1]["body"] == b"other"
    if teardown and body == "sync-generator":  # its steps and teardown kept one thread
        assert threads[0] == threads[-1]


async def test_a_sync_view_and_its_after_this_request_function_share_a_thread() -> None:
    # The view registers sync work for after it: its thread stays with the request
    # (the function may close what the view opened, a sqlite connection, say).
    app = make_app()
    threads: dict[str, int] = {}

    @app.get("/")
    def view() -> str:
        threads["view"] = threading.get_ident()

        @after_this_request
        def later(response: Any) -> Any:
            threads["after"] = threading.get_ident()
            return response

        return "ok"

    await leave_two_idle_threads()
    async with app.async_test_client() as client:
        for _ in range(20):
            assert (await client.get("/")).text == "ok"
            assert threads["view"] == threads["after"], threads


def test_a_blueprint_sync_teardown_keeps_the_views_thread() -> None:
    # The plan sees a blueprint's sync teardown too: the view's thread stays.
    app = make_app()
    bp = Blueprint("shop", __name__, url_prefix="/shop")
    threads: dict[str, int] = {}

    @bp.get("/")
    def view() -> str:
        threads["view"] = threading.get_ident()
        return "ok"

    @bp.teardown_request
    def close(error: BaseException | None) -> None:
        threads["teardown"] = threading.get_ident()

    app.register_blueprint(bp)
    anyio.run(leave_two_idle_threads)
    client = app.test_client()  # its get() returns once the teardown has run
    for _ in range(20):
        assert client.get("/shop/").text == "ok"
        assert threads["view"] == threads["teardown"], threads


async def test_past_sync_queue_limit_a_request_is_a_503_with_retry_after() -> None:
    app = make_app()
    app.config.update(SYNC_THREAD_LIMIT=1, SYNC_QUEUE_LIMIT=2)
    release = threading.Event()
    torn_down: list[str] = []

    @app.get("/<name>")
    def view(name: str) -> str:
        if name == "busy":
            release.wait(5)
        return name

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:  # sync: it needs a slot too
        torn_down.append(request.path)

    statuses: dict[str, tuple[int, str | None]] = {}
    async with app.async_test_client() as client:

        async def get(name: str) -> None:
            response = await client.get(f"/{name}")
            statuses[name] = (response.status_code, response.headers.get("retry-after"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(get, "busy")
            await anyio.sleep(0.1)
            tg.start_soon(get, "queued1")
            tg.start_soon(get, "queued2")
            await anyio.sleep(0.1)
            await get("refused")  # two are waiting already
            release.set()
    assert statuses == {
        "busy": (200, None),
        "queued1": (200, None),
        "queued2": (200, None),
        "refused": (503, "1"),
    }
    assert sorted(torn_down) == ["/busy", "/queued1", "/queued2", "/refused"]


def test_the_worker_pool_is_the_apps_and_shutdown_ends_its_threads() -> None:
    app = make_app()

    @app.get("/")
    def view() -> str:
        return threading.current_thread().name

    assert served_get(app) == "microasgi-request"
    assert app._workers.threads >= 1
    app._workers.shutdown()
    deadline = time.monotonic() + 5
    while app._workers.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app._workers.threads == 0
    # The pool still serves: new calls start new threads.
    assert served_get(app) == "microasgi-request"
    app.test_client().close()  # which shuts the pool down too
    deadline = time.monotonic() + 5
    while app._workers.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app._workers.threads == 0


def test_lifespan_shutdown_ends_the_worker_threads() -> None:
    app = make_app()

    @app.get("/")
    def view() -> str:
        return "ok"

    async def serve() -> None:
        async with run_lifespan(app):
            wire = Wire()
            await app(http_scope("/"), wire.receive, wire.send)
            assert wire.text == "ok"
            assert app._workers.threads >= 1

    anyio.run(serve)
    deadline = time.monotonic() + 5
    while app._workers.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app._workers.threads == 0


def test_two_apps_have_two_pools() -> None:
    first, second = make_app(), make_app()
    assert first._workers is not second._workers


def test_a_changed_anyio_is_a_clear_import_error() -> None:
    from types import SimpleNamespace

    from microasgi._anyio import AnyioChanged, check

    class Backend:
        @staticmethod
        def run_sync_soon(func: Any, args: Any, token: Any) -> None:
            pass

    local = object()
    assert check(SimpleNamespace(threadlocals=local), Backend) is local
    with pytest.raises(AnyioChanged, match=r"threadlocals.*anyio>=4.11,<5"):
        check(SimpleNamespace(), Backend)
    with pytest.raises(AnyioChanged, match="run_sync_soon"):
        check(SimpleNamespace(threadlocals=local), object())
