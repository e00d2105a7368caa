"""The sync test client behaves as Flask's: ``def`` code on the test's thread,
Werkzeug's request arguments, cookie jar and responses, ``test_client_class``.

Several tests mirror Flask's own tests/test_testing.py."""

from __future__ import annotations

import importlib.metadata
import io
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.from_thread
import httpx
import pytest
import werkzeug.test

from microasgi import (
    MicroASGI,
    Response,
    after_this_request,
    g,
    redirect,
    request,
    session,
    stream_with_context,
)
from microasgi.globals import _cv_app
from microasgi.testing import (
    CliRunner,
    EnvironBuilder,
    FlaskClient,
    FlaskCliRunner,
    TestClient,
    TestResponse,
)

from .servers import uvicorn

# --- def code runs on the test's own thread ------------------------------------------------


def test_a_def_view_sees_the_tests_thread_local_sqlite_connection(
    app: MicroASGI, client: TestClient
) -> None:
    # The pattern of Flask apps' test suites: a per-thread `:memory:` database the
    # test fills, which the app reaches through a thread-local.
    local = threading.local()
    local.db = sqlite3.connect(":memory:")
    local.db.execute("CREATE TABLE users (name TEXT)")
    local.db.execute("INSERT INTO users VALUES ('ada')")

    @app.get("/users")
    def users() -> list[str]:
        return [name for (name,) in local.db.execute("SELECT name FROM users")]

    @app.post("/users/<name>")
    def add(name: str) -> tuple[str, int]:
        local.db.execute("INSERT INTO users VALUES (?)", (name,))
        return "", 201

    assert client.get("/users").json == ["ada"]
    assert client.post("/users/grace").status_code == 201
    assert [n for (n,) in local.db.execute("SELECT name FROM users")] == ["ada", "grace"]


def test_every_piece_of_sync_code_runs_on_the_tests_thread(
    app: MicroASGI, client: TestClient
) -> None:
    seen: dict[str, int] = {}

    @app.before_request
    def before() -> None:
        seen["before"] = threading.get_ident()

    @app.after_request
    def after(response: Response) -> Response:
        seen["after"] = threading.get_ident()
        return response

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        seen["teardown"] = threading.get_ident()

    @app.get("/")
    def view() -> Iterator[str]:
        seen["view"] = threading.get_ident()

        @after_this_request
        def later(response: Response) -> Response:
            seen["after_this_request"] = threading.get_ident()
            return response

        def steps() -> Iterator[str]:
            seen["generator"] = threading.get_ident()
            yield "done"

        return steps()

    @app.get("/async")
    async def async_view() -> str:
        seen["async view"] = threading.get_ident()
        return "async"

    assert client.get("/").text == "done"
    assert client.get("/async").text == "async"
    here = threading.get_ident()
    loop = seen.pop("async view")
    assert seen == dict.fromkeys(
        ["before", "after", "teardown", "view", "after_this_request", "generator"], here
    )
    assert loop != here  # async code runs on the client's event loop


def test_the_thread_is_the_callers_when_the_client_is_used_from_another(
    app: MicroASGI, client: TestClient
) -> None:
    @app.get("/")
    def view() -> str:
        return threading.current_thread().name

    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(client.get("/").text), name="other")
    thread.start()
    thread.join(10)
    assert answers == ["other"]
    assert client.get("/").text == threading.current_thread().name


def test_anyio_from_thread_works_in_a_def_view_and_the_thread_is_left_clean(
    app: MicroASGI, client: TestClient
) -> None:
    async def shout(word: str) -> str:
        await anyio.sleep(0)
        return word.upper()

    @app.get("/")
    def view() -> str:
        return anyio.from_thread.run(shout, request.args["w"])

    assert client.get("/?w=hi").text == "HI"
    # The token that let the view reach the loop was the view's only: the
    # test's thread is not an event loop's worker afterwards.
    with pytest.raises(anyio.NoEventLoopError):
        anyio.from_thread.run(shout, "x")


def test_a_def_view_may_use_the_test_client_itself(app: MicroASGI, client: TestClient) -> None:
    @app.get("/inner")
    def inner() -> str:
        return f"inner on {threading.current_thread().name}"

    @app.get("/outer")
    def outer() -> str:
        return "outer saw: " + client.get("/inner").text

    expected = f"outer saw: inner on {threading.current_thread().name}"
    assert client.get("/outer").text == expected


def test_the_test_thread_serves_the_view_even_at_the_thread_limit(app: MicroASGI) -> None:
    app.config["SYNC_THREAD_LIMIT"] = 1

    @app.get("/")
    def view() -> str:
        return "ok"

    with app.test_client() as client:  # kept contexts give their slot back
        for _ in range(3):
            assert client.get("/").text == "ok"


def test_served_by_a_real_server_def_views_still_run_in_worker_threads() -> None:
    # The same app: under the test client the view runs on the test's thread;
    # under uvicorn, in the app's worker threads, off the event loop's.
    from .apps.matrix import app

    with app.test_client() as client:
        local = client.post("/upload/sync", data=b"x" * 10)
    assert local.json == {"size": 10, "thread": threading.current_thread().name}

    server = uvicorn("tests.apps.matrix:app")
    try:
        server.wait_ready("/loop")
        served = httpx.post(server.url + "/upload/sync", content=b"x" * 10, timeout=10)
    finally:
        server.stop()
    assert served.json() == {"size": 10, "thread": "microasgi-request"}


# --- streaming: the response is read as the test asks for it ----------------------------------


def test_a_streamed_body_runs_as_the_test_reads_it(app: MicroASGI, client: TestClient) -> None:
    events: list[str] = []

    @app.get("/stream")
    def stream() -> Response:
        @stream_with_context
        def lines() -> Iterator[str]:
            try:
                for n in range(3):
                    events.append(f"step {n}")
                    yield f"{request.args['p']}{n} "
            finally:
                events.append("generator closed")

        return Response(lines())

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    response = client.get("/stream?p=x")
    assert events == ["step 0"]  # the headers came with the first chunk
    chunks = response.iter_encoded()
    assert next(chunks) == b"x0 "
    assert next(chunks) == b"x1 "
    assert events == ["step 0", "step 1"]
    assert b"".join(chunks) == b"x2 "
    assert events == ["step 0", "step 1", "step 2", "generator closed", "teardown"]

    events.clear()
    assert client.get("/stream?p=y").get_data() == b"y0 y1 y2 "
    events.clear()
    response = client.get("/stream?p=z", buffered=True)
    assert events[-2:] == ["generator closed", "teardown"]
    assert response.data == b"z0 z1 z2 "


def test_closing_a_streamed_response_early_ends_the_request(
    app: MicroASGI, client: TestClient
) -> None:
    events: list[str] = []
    here = threading.get_ident()

    @app.get("/forever")
    def forever() -> Iterator[str]:
        def chunks() -> Iterator[str]:
            try:
                while True:
                    yield "x"
            finally:
                events.append(f"closed on the test's thread: {threading.get_ident() == here}")

        return chunks()

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    response = client.get("/forever")
    assert response.status_code == 200
    response.close()
    assert events == ["closed on the test's thread: True", "teardown"]


def test_an_unread_stream_is_ended_with_the_client(app: MicroASGI) -> None:
    events: list[str] = []

    @app.get("/forever")
    async def forever() -> Any:
        async def chunks() -> Any:
            try:
                while True:
                    yield "x"
            finally:
                events.append("closed")

        return chunks()

    client = app.test_client()
    response = client.get("/forever")
    assert response.status_code == 200
    client.close()
    assert events == ["closed"]
    del response


def test_a_request_body_reaches_the_app_in_chunks(app: MicroASGI, client: TestClient) -> None:
    @app.post("/count", stream=True)
    async def count() -> dict[str, int]:
        chunks = size = 0
        async for chunk in request.stream:
            chunks += 1
            size += len(chunk)
        return {"chunks": chunks, "size": size}

    body = client.post("/count", data=io.BytesIO(b"x" * 200_000)).json
    assert body["size"] == 200_000
    assert body["chunks"] > 1


# --- app.test_client(), app.test_cli_runner() and Flask's names ----------------------------


def test_flask_names() -> None:
    assert FlaskClient is TestClient
    assert FlaskCliRunner is CliRunner
    assert issubclass(TestClient, werkzeug.test.Client)
    assert issubclass(EnvironBuilder, werkzeug.test.EnvironBuilder)
    assert TestResponse is werkzeug.test.TestResponse


def test_test_client_class_gets_the_extra_arguments(app: MicroASGI) -> None:
    class AuthClient(FlaskClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.token = kwargs.pop("token")
            super().__init__(*args, **kwargs)

        def open(self, *args: Any, **kwargs: Any) -> TestResponse:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.token}"
            return super().open(*args, **kwargs)

    @app.get("/")
    def index() -> str:
        return request.headers["Authorization"]

    app.test_client_class = AuthClient
    client = app.test_client(token="abc", use_cookies=False)
    try:
        assert isinstance(client, AuthClient)
        assert client._cookies is None
        assert client.get("/").text == "Bearer abc"
    finally:
        client.close()


def test_test_cli_runner_class(app: MicroASGI) -> None:
    assert type(app.test_cli_runner()) is FlaskCliRunner

    class SubRunner(FlaskCliRunner):
        pass

    app.test_cli_runner_class = SubRunner
    assert isinstance(app.test_cli_runner(), SubRunner)


# --- request arguments: Werkzeug's EnvironBuilder, with the app's defaults ------------------


def test_environ_defaults_from_config(app: MicroASGI, client: TestClient) -> None:
    app.config["SERVER_NAME"] = "example.com:1234"
    app.config["APPLICATION_ROOT"] = "/foo"

    @app.route("/")
    def index() -> str:
        return request.url

    assert client.get("/").data == b"http://example.com:1234/foo/"
    assert client.get("/", url_scheme="https").data == b"https://example.com:1234/foo/"


def test_environ_base_default_and_modified(app: MicroASGI, client: TestClient) -> None:
    @app.route("/")
    def index() -> dict[str, Any]:
        return {"addr": request.remote_addr, "agent": request.user_agent.string}

    version = importlib.metadata.version("werkzeug")
    assert client.get("/").json == {"addr": "127.0.0.1", "agent": f"Werkzeug/{version}"}
    client.environ_base["REMOTE_ADDR"] = "192.168.0.22"
    client.environ_base["HTTP_USER_AGENT"] = "Foo"
    assert client.get("/").json == {"addr": "192.168.0.22", "agent": "Foo"}
    got = client.get("/", environ_base={"REMOTE_ADDR": "10.1.1.1"}).json
    assert got == {"addr": "10.1.1.1", "agent": "Foo"}


def test_open_takes_a_builder_an_environ_or_a_request(app: MicroASGI, client: TestClient) -> None:
    @app.route("/index", methods=["GET", "POST"])
    def index() -> str:
        return f"{request.method} {request.remote_addr}"

    builder = EnvironBuilder(app, path="/index", method="POST")
    assert client.open(builder).data == b"POST 127.0.0.1"
    environ = builder.get_environ()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert client.open(environ).data == b"POST 127.0.0.2"
    assert client.open(builder.get_request()).data == b"POST 127.0.0.2"


def test_full_url_and_positional_base_url(app: MicroASGI, client: TestClient) -> None:
    @app.route("/action", methods=["GET", "POST"])
    def action() -> dict[str, Any]:
        return {"url": request.url, "form": request.form.to_dict()}

    got = client.post("http://domain.com/action?vodka=42", data={"gin": "43"}).json
    assert got == {"url": "http://domain.com/action?vodka=42", "form": {"gin": "43"}}
    got = client.get("/action", "https://example.org/shop").json
    assert got["url"] == "https://example.org/shop/action"


def test_auth_headers_json_and_files(app: MicroASGI, client: TestClient) -> None:
    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        auth = request.authorization
        return {
            "user": auth and auth.username,
            "password": auth and auth.password,
            "thing": request.headers.get("X-Thing"),
            "json": request.get_json(silent=True),
            "form": request.form.to_dict(flat=False),
            "files": {
                k: [f.filename, f.read().decode(), f.mimetype] for k, f in request.files.items()
            },
        }

    got = client.post("/echo", auth=("ada", "s3cret"), headers={"X-Thing": "1"}, json=[1]).json
    assert (got["user"], got["password"], got["thing"], got["json"]) == ("ada", "s3cret", "1", [1])
    got = client.post(
        "/echo",
        data={
            "tag": ["a", "b"],
            "notes": (io.BytesIO(b"hello"), "notes.txt", "text/plain"),
            "raw": (io.BytesIO(b"\x00"), "raw.bin"),
        },
    ).json
    assert got["form"] == {"tag": ["a", "b"]}
    assert got["files"] == {
        "notes": ["notes.txt", "hello", "text/plain"],
        "raw": ["raw.bin", "\x00", "application/octet-stream"],
    }


def test_environ_builder_uses_the_apps_json(app: MicroASGI) -> None:
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    builder = EnvironBuilder(app, json="\u20ac")
    assert builder.input_stream is not None
    assert builder.input_stream.read().decode() == '"\u20ac"'


# --- redirects ----------------------------------------------------------------------------


def test_follow_redirects_and_history(app: MicroASGI, client: TestClient) -> None:
    @app.get("/a")
    def a() -> Response:
        session["from"] = "a"
        return redirect("/b")

    @app.get("/b")
    def b() -> Response:
        return redirect("/c", 301)

    @app.get("/c")
    def c() -> str:
        return f"from {session['from']}"

    with client:
        response = client.get("/a", follow_redirects=True)
        assert response.text == "from a"
        assert [r.status_code for r in response.history] == [302, 301]
        assert isinstance(response.history, tuple)
        assert response.request.path == "/c"
        assert request.path == "/c"  # the last request's context is the one kept
    assert not _cv_app.get(None)


# --- cookies: Werkzeug's jar, Flask 3's methods -------------------------------------------


def _cookie_app(app: MicroASGI) -> None:
    @app.get("/set")
    def set_cookie() -> Response:
        response = Response("set")
        expires = datetime(2100, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        response.set_cookie("flavor", "chocolate", expires=expires, httponly=True)
        response.set_cookie("wide", "1", domain=".localhost.local")
        return response

    @app.get("/read")
    def read() -> dict[str, str]:
        return dict(request.cookies)


def test_cookies_set_by_the_app(app: MicroASGI, client: TestClient) -> None:
    _cookie_app(app)
    client.get("/set")
    flavor = client.get_cookie("flavor")
    assert flavor is not None
    assert flavor.value == "chocolate"
    assert flavor.expires == datetime(2100, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert flavor.http_only
    # Set for ".localhost.local": filed under "localhost.local", sent to its subdomains.
    wide = client.get_cookie("wide", domain="localhost.local")
    assert wide is not None and wide.value == "1" and not wide.origin_only
    assert client.get_cookie("wide") is None
    assert client.get("/read", "http://app.localhost.local/").json == {"wide": "1"}
    assert client.get("/read").json == {"flavor": "chocolate"}


def test_the_cookie_jar_is_flasks(app: MicroASGI, client: TestClient) -> None:
    # The same requests and cookie calls against a Flask app: the same cookies.
    import flask

    flask_app = flask.Flask("side_by_side")
    _cookie_app(app)

    @flask_app.get("/set")
    def set_cookie() -> flask.Response:
        response = flask.Response("set")
        expires = datetime(2100, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        response.set_cookie("flavor", "chocolate", expires=expires, httponly=True)
        response.set_cookie("wide", "1", domain=".localhost.local")
        return response

    def steps(c: Any) -> list[Any]:
        c.get("/set")
        c.set_cookie("mine", "\u00e9t\u00e9", domain=".localhost.local", origin_only=False)
        c.set_cookie("gone", "soon", path="/x")
        c.delete_cookie("gone", path="/x")
        keys = [("flavor", "localhost"), ("wide", "localhost.local"), ("mine", "localhost.local")]
        return [c.get_cookie(key, domain=domain) for key, domain in keys] + [
            c.get_cookie("gone", path="/x")
        ]

    assert steps(client) == steps(flask_app.test_client())


def test_set_get_delete_cookie_with_flask_3_signatures(app: MicroASGI, client: TestClient) -> None:
    _cookie_app(app)
    client.set_cookie("token", "abc", domain="localhost", path="/", max_age=timedelta(hours=1))
    assert client.get("/read").json == {"token": "abc"}
    client.set_cookie("token", "other", domain="example.com")
    assert client.get("/read", "http://example.com/").json == {"token": "other"}
    with pytest.raises(TypeError):
        client.set_cookie("localhost", "token", "positional")  # type: ignore[misc]
    client.delete_cookie("token", domain="example.com")
    assert client.get("/read", "http://example.com/").json == {}
    client.delete_cookie("token")
    assert client.get("/read").json == {}
    assert client.get_cookie("token") is None


def test_non_latin_1_cookie_values(app: MicroASGI, client: TestClient) -> None:
    _cookie_app(app)

    @app.get("/unicode")
    def unicode_cookie() -> Response:
        response = Response("set")
        response.set_cookie("greeting", "h\u00e9llo \u2603")
        return response

    client.get("/unicode")
    cookie = client.get_cookie("greeting")
    assert cookie is not None
    assert cookie.decoded_value == "h\u00e9llo \u2603"
    assert client.get("/read").json == {"greeting": "h\u00e9llo \u2603"}
    client.set_cookie("name", "J\u00fcrgen")
    assert client.get("/read").json["name"] == "J\u00fcrgen"


def test_a_cookie_header_given_is_sent_as_given(app: MicroASGI, client: TestClient) -> None:
    _cookie_app(app)
    client.get("/set")
    assert client.get("/read", headers={"Cookie": "given=1"}).json == {"given": "1"}
    assert client.get("/read").json == {"flavor": "chocolate"}


def test_cookies_disabled(app: MicroASGI) -> None:
    _cookie_app(app)
    client = app.test_client(use_cookies=False)
    try:
        assert "flavor=chocolate" in client.get("/set").headers["Set-Cookie"]
        assert client.get("/read").json == {}
        with pytest.raises(TypeError, match="Cookies are disabled"):
            client.get_cookie("flavor")
        with pytest.raises(TypeError, match="Cookies are disabled"), client.session_transaction():
            pass
    finally:
        client.close()


# --- sessions and kept contexts ---------------------------------------------------------------


def test_session_transaction_takes_request_arguments(app: MicroASGI, client: TestClient) -> None:
    @app.get("/")
    def index() -> str:
        return str(session.get("foo"))

    with client:
        with client.session_transaction("/", base_url="http://localhost") as sess:
            assert len(sess) == 0
            sess["foo"] = [42]
        assert client.get("/").data == b"[42]"
        with client.session_transaction() as sess:
            assert sess["foo"] == [42]


def test_session_transaction_without_a_session_backend() -> None:
    app = MicroASGI("no_secret")
    client = app.test_client()
    missing = pytest.raises(RuntimeError, match="did not open a session")
    with client, missing, client.session_transaction():
        pass


def test_session_transaction_keeps_the_current_context(app: MicroASGI) -> None:
    with app.test_request_context("/outer"):
        client = app.test_client()
        try:
            client.get("/")
            outer = request._get_current_object()  # type: ignore[attr-defined]
            with client.session_transaction():
                assert request._get_current_object() is outer  # type: ignore[attr-defined]
        finally:
            client.close()


def test_with_client_restores_the_context_that_was_current(app: MicroASGI) -> None:
    @app.get("/")
    def index() -> str:
        g.value = 42
        return "hi"

    ctx = app.test_request_context("/before")
    with ctx:
        client = app.test_client()
        with client:
            response = client.get("/")
            assert g.value == 42
            assert request.path == "/"
        response.close()
        assert _cv_app.get(None) is ctx
        client.close()


def test_context_of_a_500_is_kept(app: MicroASGI, client: TestClient) -> None:
    app.testing = False

    @app.get("/")
    def index() -> str:
        g.value = 42
        return "Hello World!"

    @app.get("/other")
    def other() -> str:
        raise ZeroDivisionError

    with client:
        response = client.get("/")
        assert g.value == 42
        assert response.data == b"Hello World!"
    with client:
        response = client.get("/other")
        assert not hasattr(g, "value")
        assert b"Internal Server Error" in response.data
        assert response.status_code == 500
    with pytest.raises(RuntimeError):
        g.value  # noqa: B018


# --- responses: Werkzeug's TestResponse -------------------------------------------------------


def test_responses_are_werkzeug_test_responses(app: MicroASGI, client: TestClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> Response:
        response = Response('{"a": 1}', mimetype="application/json")
        response.headers.add("Vary", "Accept")
        response.headers.add("Vary", "Cookie")
        return response

    response = client.get("/")
    assert isinstance(response, werkzeug.test.TestResponse)
    assert response.get_json() == {"a": 1}
    assert response.json == {"a": 1}
    assert response.text == '{"a": 1}'
    assert response.headers.get_all("Vary") == ["Accept", "Cookie"]
    assert response.request.path == "/"
    response.close()
    assert client.options("/").allow == {"GET", "HEAD", "OPTIONS", "POST"}
    assert client.post("/", data="{").get_json(force=True) == {"a": 1}


def test_a_path_without_its_leading_slash_is_the_same_path() -> None:
    # As with Flask's client (Werkzeug's router adds the slash): Flask-Cors' tests
    # request "test_multiple_protocols".
    app = MicroASGI(__name__)

    @app.get("/hello")
    async def hello() -> str:
        return request.path

    client = app.test_client()
    assert client.get("hello").text == "/hello"
    with app.test_request_context("hello"):
        assert request.path == "/hello"
