"""Context locals: request, g, session, current_app, and the helpers acting on them."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

from microasgi import (
    MicroASGI,
    Response,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    stream_with_context,
    url_for,
)

from .kinds import KIND, as_kind

# --- outside any context ------------------------------------------------------------


@pytest.mark.parametrize(
    ("use", "message"),
    [
        (lambda: request.path, "Working outside of request context"),
        (lambda: request.args, "Working outside of request context"),
        (lambda: session.get("x"), "Working outside of request context"),
        (lambda: g.user, "Working outside of application context"),
        (lambda: current_app.name, "Working outside of application context"),
        (lambda: current_app.config, "Working outside of application context"),
    ],
)
def test_locals_outside_their_context(use: Callable[[], Any], message: str) -> None:
    assert not has_request_context()
    assert not has_app_context()
    with pytest.raises(RuntimeError, match=message):
        use()


def test_assigning_to_g_outside_app_context_fails() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        g.value = 1


def test_request_needs_request_context_even_inside_app_context(app: MicroASGI) -> None:
    with app.app_context():
        assert current_app.name == "test_app"
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            request.method  # noqa: B018
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            session.get("x")


def test_proxies_are_falsy_when_unbound() -> None:
    assert not request
    assert not current_app
    assert "unbound" in repr(request)


# --- app_context ---------------------------------------------------------------------


def test_app_context_with_block(app: MicroASGI) -> None:
    closed: list[BaseException | None] = []

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        closed.append(exc)

    assert not has_app_context()
    with app.app_context() as ctx:
        assert has_app_context()
        assert not has_request_context()
        assert current_app._get_current_object() is app
        assert ctx.app is app
        g.db = "connection"
        assert g.db == "connection"
        assert closed == []
    assert not has_app_context()
    assert closed == [None]


def test_app_context_teardown_gets_the_exception(app: MicroASGI) -> None:
    closed: list[BaseException | None] = []

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        closed.append(exc)

    failure = ValueError("inside")
    with pytest.raises(ValueError), app.app_context():
        raise failure
    assert closed == [failure]
    assert not has_app_context()


async def test_app_context_async_with_block(app: MicroASGI) -> None:
    closed: list[str] = []

    @app.teardown_appcontext
    async def close(exc: BaseException | None) -> None:
        closed.append(f"async {current_app.name}")

    async with app.app_context():
        assert has_app_context()
        g.x = 1
        assert current_app.name == "test_app"
        await anyio.sleep(0)
        assert g.x == 1
    assert not has_app_context()
    assert closed == ["async test_app"]


def test_a_context_pushed_twice_tears_down_once_fully_popped(app: MicroASGI) -> None:
    closed: list[str] = []
    app.teardown_request(lambda exc: closed.append("request"))
    app.teardown_appcontext(lambda exc: closed.append("app"))
    ctx = app.test_request_context("/")
    with ctx:
        with ctx:
            assert request.path == "/"
        assert closed == []
        assert request.path == "/"
    assert closed == ["request", "app"]
    assert not has_request_context()


def test_nested_app_contexts_have_their_own_g(app: MicroASGI) -> None:
    with app.app_context():
        g.level = "outer"
        with app.app_context():
            assert "level" not in g
            g.level = "inner"
        assert g.level == "outer"


def test_each_request_has_a_fresh_g(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        previous = g.get("seen", "none")
        g.seen = "set"
        return previous

    assert client.get("/").text == "none"
    assert client.get("/").text == "none"


# --- test_request_context ---------------------------------------------------------------


def test_test_request_context_with_block(app: MicroASGI) -> None:
    @app.post("/path")
    def view() -> str:
        return "x"

    assert not has_request_context()
    with app.test_request_context(
        "/path?x=1&x=2&y=z", method="POST", json={"name": "value", "n": [1, 2]}
    ):
        assert has_request_context()
        assert has_app_context()
        assert request.path == "/path"
        assert request.method == "POST"
        assert request.args["x"] == "1"
        assert request.args.getlist("x") == ["1", "2"]
        assert request.args.get("y") == "z"
        assert request.full_path == "/path?x=1&x=2&y=z"
        assert request.is_json
        assert request.get_json() == {"name": "value", "n": [1, 2]}
        assert request.json == {"name": "value", "n": [1, 2]}
        assert session.get("anything") is None
        assert url_for("view") == "/path"
        assert current_app.name == "test_app"
    assert not has_request_context()
    assert not has_app_context()


def test_test_request_context_arguments(app: MicroASGI) -> None:
    with app.test_request_context(
        "/form",
        method="PUT",
        data={"a": "1", "b": "two"},
        headers={"X-Token": "t0k"},
        base_url="https://example.com/root",
    ):
        assert request.method == "PUT"
        assert request.form["a"] == "1"
        assert request.form["b"] == "two"
        assert request.headers["X-Token"] == "t0k"
        assert request.scheme == "https"
        assert request.is_secure
        assert request.host == "example.com"
        assert request.path == "/form"
        assert request.root_path == "/root"
        assert request.url == "https://example.com/root/form"


def test_test_request_context_runs_teardown_request(app: MicroASGI) -> None:
    seen: list[tuple[str, BaseException | None]] = []

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        seen.append((request.path, exc))

    with app.test_request_context("/a"):
        pass
    assert seen == [("/a", None)]


def test_test_request_context_runs_async_teardown_in_a_with_block(app: MicroASGI) -> None:
    seen: list[str] = []

    @app.teardown_request
    async def td(exc: BaseException | None) -> None:
        seen.append("async teardown")

    @app.teardown_appcontext
    async def td_app(exc: BaseException | None) -> None:
        seen.append("async app teardown")

    with app.test_request_context("/"):
        pass
    assert seen == ["async teardown", "async app teardown"]


def test_test_request_context_opens_the_session_cookie(app: MicroASGI) -> None:
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"user": "ann"})
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        assert session["user"] == "ann"
        assert request.cookies["session"] == cookie


async def test_test_request_context_async_with_block(app: MicroASGI) -> None:
    seen: list[str] = []

    @app.teardown_request
    async def td(exc: BaseException | None) -> None:
        seen.append(request.path)

    async with app.test_request_context("/async?q=1"):
        assert request.args["q"] == "1"
        await anyio.sleep(0)
        assert request.path == "/async"
    assert seen == ["/async"]
    assert not has_request_context()


async def test_test_request_context_parses_a_form_inside_a_running_loop(app: MicroASGI) -> None:
    # The form is parsed when the context is made; the running loop cannot be
    # re-entered for it (an async test, an async CLI command).
    async with app.test_request_context("/", method="POST", data={"a": "1", "b": "2"}):
        assert request.form.to_dict() == {"a": "1", "b": "2"}
    data = {"a": "1", "upload": (io.BytesIO(b"hello"), "notes.txt")}  # as Flask's client
    async with app.test_request_context("/", method="POST", data=data):
        assert request.form["a"] == "1"
        assert request.files["upload"].read() == b"hello"


def test_test_request_context_parses_a_form_without_a_loop(app: MicroASGI) -> None:
    with app.test_request_context("/", method="POST", data={"a": "1"}):
        assert request.form["a"] == "1"


def test_app_context_inside_a_request_is_one_without_the_request(
    app: MicroASGI, client: Any
) -> None:
    # As in Flask 3.2, where the two contexts are one: the block's context has
    # the app and its own g, not the request; the request is back after it.
    @app.get("/")
    def index() -> str:
        g.outer = "request"
        with app.app_context():
            inside = (has_request_context(), current_app.name, "outer" in g)
        return f"{inside} {request.path} {g.outer}"

    assert client.get("/").text == "(False, 'test_app', False) / request"


def test_request_context_inside_app_context_keeps_it(app: MicroASGI) -> None:
    with app.app_context():
        g.outer = "kept"
        with app.test_request_context("/"):
            assert request.path == "/"
        assert g.outer == "kept"
        assert has_app_context()
    assert not has_app_context()


# --- g -------------------------------------------------------------------------------


def test_g_helpers(app: MicroASGI) -> None:
    with app.app_context():
        assert g.get("missing") is None
        assert g.get("missing", 5) == 5
        g.user = "alice"
        assert g.get("user") == "alice"
        assert "user" in g
        assert "nobody" not in g
        assert g.setdefault("user", "bob") == "alice"
        assert g.setdefault("role", "admin") == "admin"
        assert g.role == "admin"
        assert sorted(g) == ["role", "user"]
        assert g.pop("user") == "alice"
        assert "user" not in g
        assert g.pop("user", "gone") == "gone"
        with pytest.raises(KeyError):
            g.pop("user")
        with pytest.raises(AttributeError):
            g.user  # noqa: B018
        del g.role
        assert "role" not in g
        assert "test_app" in repr(g)


# --- after_this_request ----------------------------------------------------------------


@KIND
def test_after_this_request_adds_a_header(app: MicroASGI, client: Any, kind: str) -> None:
    order: list[str] = []

    @app.after_request
    def app_hook(response: Response) -> Response:
        order.append("after_request")
        return response

    def view() -> str:
        def add_header(response: Response) -> Response:
            order.append("after_this_request")
            response.headers["X-Foo"] = "bar"
            return response

        after_this_request(as_kind(kind, add_header))
        return "hello"

    app.get("/")(as_kind(kind, view))
    response = client.get("/")
    assert response.text == "hello"
    assert response.headers["X-Foo"] == "bar"
    assert order == ["after_this_request", "after_request"]


def test_after_this_request_only_applies_to_its_request(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def view() -> str:
        if request.args.get("tag"):

            @after_this_request
            def tag(response: Response) -> Response:
                response.headers["X-Tag"] = request.args["tag"]
                return response

        return "x"

    assert client.get("/?tag=one").headers["X-Tag"] == "one"
    assert "X-Tag" not in client.get("/").headers


def test_after_this_request_outside_a_request() -> None:
    with pytest.raises(RuntimeError):
        after_this_request(lambda response: response)


# --- copy_current_request_context ----------------------------------------------------------


def test_copy_current_request_context_in_a_thread(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def view() -> dict[str, Any]:
        g.marker = "from g"
        results: dict[str, Any] = {}

        @copy_current_request_context
        def work() -> None:
            results["arg"] = request.args["v"]
            results["g"] = g.marker
            results["app"] = current_app.name
            results["thread"] = threading.get_ident()

        def without_context() -> None:
            try:
                request.path  # noqa: B018
            except RuntimeError:
                results["plain thread"] = "no request"

        for target in (work, without_context):
            thread = threading.Thread(target=target)
            thread.start()
            thread.join()
        assert results["thread"] != threading.get_ident()
        del results["thread"]
        return results

    assert client.get("/?v=42").json == {
        "arg": "42",
        "g": "from g",
        "app": "test_app",
        "plain thread": "no request",
    }


def test_copy_current_request_context_in_an_anyio_task(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    async def view() -> dict[str, Any]:
        g.marker = "task g"
        results: dict[str, Any] = {}

        @copy_current_request_context
        async def work(label: str) -> None:
            await anyio.sleep(0.01)
            results[label] = [request.args["v"], g.marker, request.path]

        @copy_current_request_context
        def sync_work() -> None:
            results["sync"] = request.args["v"]

        async with anyio.create_task_group() as tg:
            tg.start_soon(work, "a")
            tg.start_soon(work, "b")
        await anyio.to_thread.run_sync(sync_work)
        return results

    assert client.get("/?v=7").json == {
        "a": ["7", "task g", "/"],
        "b": ["7", "task g", "/"],
        "sync": "7",
    }


def test_copy_current_request_context_outside_a_request() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        copy_current_request_context(lambda: None)


# --- stream_with_context --------------------------------------------------------------------


@KIND
def test_stream_with_context_wrapping_a_generator(app: MicroASGI, client: Any, kind: str) -> None:
    events: list[str] = []

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        events.append("teardown")

    def view() -> Response:
        g.who = "g-value"

        def generate() -> Iterator[str]:
            try:
                yield "a="
                yield request.args["a"]
                yield ";g="
                yield g.who
                yield ";path="
                yield request.path
            finally:
                events.append("generator closed")

        return Response(stream_with_context(generate()), mimetype="text/plain")

    app.get("/stream")(as_kind(kind, view))
    response = client.get("/stream?a=hello")
    assert response.status_code == 200
    assert response.text == "a=hello;g=g-value;path=/stream"
    assert response.mimetype == "text/plain"
    assert events == ["generator closed", "teardown"]


@KIND
def test_stream_with_context_as_a_decorator(app: MicroASGI, client: Any, kind: str) -> None:
    def view() -> Any:
        g.count = int(request.args["n"])

        @stream_with_context
        def generate() -> Iterator[str]:
            for i in range(g.count):
                yield f"{request.args['prefix']}{i},"

        return generate()

    app.get("/count")(as_kind(kind, view))
    response = client.get("/count?n=4&prefix=x")
    assert response.text == "x0,x1,x2,x3,"


def test_stream_with_context_on_an_async_generator(app: MicroASGI, client: Any) -> None:
    @app.get("/agen")
    async def view() -> Any:
        g.suffix = "!"

        async def generate() -> AsyncIterator[str]:
            for word in request.args.getlist("w"):
                await anyio.sleep(0)
                yield word + g.suffix

        return stream_with_context(generate())

    assert client.get("/agen?w=a&w=b").text == "a!b!"


# --- isolation under concurrency ----------------------------------------------------------------


def _isolation_app(app: MicroASGI) -> None:
    @app.before_request
    async def remember() -> None:
        g.before = request.headers["X-Id"]

    def answer() -> str:
        assert g.before == g.id
        return f"{request.args['id']}|{request.headers['X-Id']}|{g.id}"

    @app.get("/sync")
    def sync_view() -> str:
        g.id = request.args["id"]
        time.sleep(random.random() / 500)
        return answer()

    @app.get("/async")
    async def async_view() -> str:
        g.id = request.args["id"]
        await anyio.sleep(random.random() / 500)
        return answer()

    @app.get("/sync-stream")
    def sync_stream() -> Any:
        g.id = request.args["id"]

        def generate() -> Iterator[str]:
            yield request.args["id"]
            time.sleep(random.random() / 500)
            yield "|" + request.headers["X-Id"]
            time.sleep(random.random() / 500)
            yield "|" + g.id

        return stream_with_context(generate())

    @app.get("/async-stream")
    async def async_stream() -> Any:
        g.id = request.args["id"]

        async def generate() -> AsyncIterator[str]:
            yield request.args["id"]
            await anyio.sleep(random.random() / 500)
            yield "|" + request.headers["X-Id"]
            await anyio.sleep(random.random() / 500)
            yield "|" + g.id

        return generate()

    @app.get("/gen-view")
    def generator_view() -> Iterator[str]:
        g.id = request.args["id"]
        yield request.args["id"]
        time.sleep(random.random() / 500)
        yield "|" + request.headers["X-Id"] + "|" + g.id

    @app.get("/task")
    async def task_view() -> str:
        g.id = request.args["id"]
        seen: list[str] = []

        async def child() -> None:
            await anyio.sleep(random.random() / 500)
            seen.append(f"{request.args['id']}|{request.headers['X-Id']}|{g.id}")

        async with anyio.create_task_group() as tg:
            tg.start_soon(child)
            tg.start_soon(child)
        assert seen[0] == seen[1]
        return seen[0]


ISOLATION_PATHS = ["/sync", "/async", "/sync-stream", "/async-stream", "/gen-view", "/task"]


async def test_concurrent_requests_never_see_each_other(app: MicroASGI) -> None:
    _isolation_app(app)
    client = app.async_test_client()
    total = 360
    answers: dict[str, tuple[int, str]] = {}

    async def one(n: int) -> None:
        ident = f"req-{n}-{random.randrange(10**9)}"
        path = ISOLATION_PATHS[n % len(ISOLATION_PATHS)]
        response = await client.get(path, query_string={"id": ident}, headers={"X-Id": ident})
        answers[ident] = (response.status_code, response.text)

    async with anyio.create_task_group() as tg:
        for n in range(total):
            tg.start_soon(one, n)

    assert len(answers) == total
    wrong = {
        ident: answer
        for ident, answer in answers.items()
        if answer != (200, f"{ident}|{ident}|{ident}")
    }
    assert wrong == {}


async def test_task_spawned_in_async_view_sees_the_request(app: MicroASGI) -> None:
    @app.get("/spawn")
    async def spawn() -> dict[str, Any]:
        g.token = request.args["t"]
        out: dict[str, Any] = {}

        async def child() -> None:
            await anyio.sleep(0.01)
            out["args"] = request.args["t"]
            out["g"] = g.token
            out["same request"] = request._get_current_object() is request_obj
            g.from_child = "child wrote g"

        request_obj = request._get_current_object()
        async with anyio.create_task_group() as tg:
            tg.start_soon(child)
        out["child g visible"] = g.get("from_child")
        return out

    client = app.async_test_client()
    response = await client.get("/spawn?t=abc")
    assert response.json == {
        "args": "abc",
        "g": "abc",
        "same request": True,
        "child g visible": "child wrote g",
    }
