"""The test clients as Flask users drive them: arguments, responses, context
preservation, cookies, redirects, sessions; and the async twin."""

from __future__ import annotations

import gc
import io
import warnings
from typing import Any

import anyio
import pytest

from microasgi import MicroASGI, Response, g, has_request_context, redirect, request, session


@pytest.fixture
def echo_app(app: MicroASGI) -> MicroASGI:
    """An app whose views echo what they received."""

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo() -> dict[str, Any]:
        files = {
            name: [f.filename, f.read().decode(), f.mimetype] for name, f in request.files.items()
        }
        return {
            "method": request.method,
            "path": request.path,
            "args": {k: request.args.getlist(k) for k in request.args},
            "form": {k: request.form.getlist(k) for k in request.form},
            "files": files,
            "json": request.get_json(silent=True),
            "data": request.get_data(as_text=True) if not request.form else "",
            "mimetype": request.mimetype,
            "x_thing": request.headers.get("X-Thing"),
        }

    return app


# --- request arguments, Flask style ----------------------------------------------------


def test_query_string_forms(echo_app: MicroASGI, client: Any) -> None:
    assert client.get("/echo?x=1&x=2").json["args"] == {"x": ["1", "2"]}
    assert client.get("/echo", query_string={"a": "1", "b": ["2", "3"]}).json["args"] == {
        "a": ["1"],
        "b": ["2", "3"],
    }
    assert client.get("/echo", query_string="q=a+b&r=%2F").json["args"] == {
        "q": ["a b"],
        "r": ["/"],
    }
    assert client.get("/echo", query_string=b"z=9").json["args"] == {"z": ["9"]}


def test_form_data(echo_app: MicroASGI, client: Any) -> None:
    body = client.post("/echo", data={"name": "Ann", "tag": ["a", "b"]}).json
    assert body["form"] == {"name": ["Ann"], "tag": ["a", "b"]}
    assert body["mimetype"] == "application/x-www-form-urlencoded"
    assert body["method"] == "POST"


def test_file_upload(echo_app: MicroASGI, client: Any) -> None:
    body = client.post(
        "/echo",
        data={
            "field": "value",
            "upload": (io.BytesIO(b"file content"), "notes.txt", "text/plain"),
        },
    ).json
    assert body["form"] == {"field": ["value"]}
    assert body["files"] == {"upload": ["notes.txt", "file content", "text/plain"]}
    assert body["mimetype"] == "multipart/form-data"


def test_json_argument(echo_app: MicroASGI, client: Any) -> None:
    body = client.put("/echo", json={"k": [1, 2], "s": "\u00e9"}).json
    assert body["json"] == {"k": [1, 2], "s": "\u00e9"}
    assert body["mimetype"] == "application/json"
    assert body["method"] == "PUT"


def test_raw_data_and_content_type(echo_app: MicroASGI, client: Any) -> None:
    body = client.patch("/echo", data=b"raw bytes", content_type="text/plain").json
    assert body["data"] == "raw bytes"
    assert body["mimetype"] == "text/plain"
    body = client.post("/echo", data="text body", headers={"Content-Type": "text/csv"}).json
    assert body["data"] == "text body"
    assert body["mimetype"] == "text/csv"


def test_headers_as_dict_or_list(echo_app: MicroASGI, client: Any) -> None:
    assert client.get("/echo", headers={"X-Thing": "d"}).json["x_thing"] == "d"
    assert client.get("/echo", headers=[("X-Thing", "l")]).json["x_thing"] == "l"


def test_open_with_method(echo_app: MicroASGI, client: Any) -> None:
    assert client.open("/echo", method="DELETE").json["method"] == "DELETE"
    assert client.open("/echo", method="post", json=[1]).json["json"] == [1]


def test_data_and_json_together_is_an_error(echo_app: MicroASGI, client: Any) -> None:
    with pytest.raises(TypeError):
        client.post("/echo", data="x", json={"a": 1})


# --- responses --------------------------------------------------------------------------


def test_response_attributes(app: MicroASGI, client: Any) -> None:
    @app.get("/json")
    def as_json() -> tuple[dict[str, Any], int, dict[str, str]]:
        return {"ok": True}, 201, {"X-Extra": "1"}

    @app.get("/text")
    def as_text() -> Response:
        return Response("caf\u00e9", mimetype="text/plain")

    response = client.get("/json")
    assert response.status_code == 201
    assert response.status == "201 CREATED"
    assert response.headers["X-Extra"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert response.mimetype == "application/json"
    assert response.is_json
    assert response.json == {"ok": True}
    assert response.get_json() == {"ok": True}
    assert response.data == b'{"ok":true}\n'

    response = client.get("/text")
    assert response.status == "200 OK"
    assert response.data == "caf\u00e9".encode()
    assert response.text == "caf\u00e9"
    assert response.get_data(as_text=True) == "caf\u00e9"
    assert response.mimetype == "text/plain"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.content_length == 5
    assert response.json is None


# --- `with client:` keeps the last request's context ------------------------------------------


def _context_app(app: MicroASGI, events: list[str]) -> None:
    @app.get("/")
    def index() -> str:
        g.user = f"user-{request.args.get('x', '?')}"
        session["visits"] = session.get("visits", 0) + 1
        return "ok"

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        events.append(f"teardown {request.args.get('x')}")


def test_with_client_keeps_the_context(app: MicroASGI, client: Any) -> None:
    events: list[str] = []
    _context_app(app, events)
    with client:
        client.get("/?x=1")
        assert has_request_context()
        assert request.args["x"] == "1"
        assert request.path == "/"
        assert g.user == "user-1"
        assert session["visits"] == 1
        client.get("/?x=2")
        assert request.args["x"] == "2"
        assert g.user == "user-2"
        assert session["visits"] == 2
    assert not has_request_context()
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        request.args  # noqa: B018


def test_teardown_is_deferred_until_the_next_request_or_the_end(
    app: MicroASGI, client: Any
) -> None:
    events: list[str] = []
    _context_app(app, events)
    with client:
        client.get("/?x=1")
        assert events == []
        client.get("/?x=2")
        assert events == ["teardown 1"]
    assert events == ["teardown 1", "teardown 2"]


def test_without_with_teardown_runs_at_once(app: MicroASGI, client: Any) -> None:
    events: list[str] = []
    _context_app(app, events)
    client.get("/?x=1")
    assert events == ["teardown 1"]
    assert not has_request_context()


def test_with_client_keeps_the_context_after_an_error_response(app: MicroASGI, client: Any) -> None:
    @app.get("/missing-thing")
    def missing() -> tuple[str, int]:
        g.reason = "not here"
        return "nope", 404

    with client:
        assert client.get("/missing-thing").status_code == 404
        assert g.reason == "not here"


def test_error_inside_with_client_still_shuts_down(app: MicroASGI, client: Any) -> None:
    events: list[str] = []
    _context_app(app, events)

    @app.after_serving
    def stop() -> None:
        events.append("after_serving")

    with pytest.raises(KeyError, match="in the test"), client:
        client.get("/?x=1")
        raise KeyError("in the test")
    assert events == ["teardown 1", "after_serving"]
    assert not has_request_context()


async def test_async_with_client_keeps_the_context(app: MicroASGI) -> None:
    events: list[str] = []
    _context_app(app, events)
    async with app.async_test_client() as client:
        await client.get("/?x=1")
        assert request.args["x"] == "1"
        assert g.user == "user-1"
        assert session["visits"] == 1
        assert events == []
        await client.get("/?x=2")
        assert events == ["teardown 1"]
    assert events == ["teardown 1", "teardown 2"]
    assert not has_request_context()


async def test_concurrent_requests_inside_async_with_client(app: MicroASGI) -> None:
    @app.get("/n/<int:n>")
    async def number(n: int) -> str:
        await anyio.sleep(0.001 * (n % 3))
        return str(n)

    results: dict[int, str] = {}
    async with app.async_test_client() as client:

        async def fetch(n: int) -> None:
            results[n] = (await client.get(f"/n/{n}")).text

        async with anyio.create_task_group() as tg:
            for n in range(10):
                tg.start_soon(fetch, n)
    assert results == {n: str(n) for n in range(10)}


# --- cookies ----------------------------------------------------------------------------------


def _cookie_app(app: MicroASGI) -> None:
    @app.get("/set")
    def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("flavor", request.args.get("v", "chocolate"))
        return response

    @app.get("/read")
    def read() -> dict[str, str]:
        return dict(request.cookies)

    @app.get("/forget")
    def forget() -> Response:
        response = Response("forgotten")
        response.delete_cookie("flavor")
        return response


def test_cookies_persist_between_requests(app: MicroASGI, client: Any) -> None:
    _cookie_app(app)
    assert client.get("/read").json == {}
    client.get("/set")
    assert client.get("/read").json == {"flavor": "chocolate"}
    client.get("/set?v=vanilla")
    assert client.get("/read").json == {"flavor": "vanilla"}
    client.get("/forget")
    assert client.get("/read").json == {}


def test_use_cookies_false(app: MicroASGI) -> None:
    _cookie_app(app)
    client = app.test_client(use_cookies=False)
    try:
        response = client.get("/set")
        assert "flavor=chocolate" in response.headers["Set-Cookie"]
        assert client.get("/read").json == {}
    finally:
        client.close()


def test_use_cookies_false_still_sends_an_explicit_cookie_header(app: MicroASGI) -> None:
    _cookie_app(app)
    client = app.test_client(use_cookies=False)
    try:
        assert client.get("/read", headers={"Cookie": "given=1"}).json == {"given": "1"}
    finally:
        client.close()


def test_set_and_delete_cookie_on_the_client(app: MicroASGI, client: Any) -> None:
    _cookie_app(app)
    client.set_cookie("token", "abc123")
    assert client.get("/read").json == {"token": "abc123"}
    client.set_cookie("token", "replaced")
    assert client.get("/read").json == {"token": "replaced"}
    client.delete_cookie("token")
    assert client.get("/read").json == {}
    assert client.get_cookie("token") is None


def test_delete_cookie_the_server_set(app: MicroASGI, client: Any) -> None:
    _cookie_app(app)
    client.get("/set?v=lemon")
    assert client.get("/read").json == {"flavor": "lemon"}
    client.delete_cookie("flavor")
    assert client.get("/read").json == {}
    assert client.get_cookie("flavor") is None


def test_get_cookie_returns_flask_cookie_object(app: MicroASGI, client: Any) -> None:
    # Werkzeug's Client.get_cookie returns a Cookie with .key and .value (Flask >= 2.3).
    _cookie_app(app)
    assert client.get_cookie("flavor") is None
    client.get("/set?v=mint")
    cookie = client.get_cookie("flavor")
    assert cookie is not None
    assert cookie.key == "flavor"
    assert cookie.value == "mint"


# --- redirects -------------------------------------------------------------------------------


def _redirect_app(app: MicroASGI) -> None:
    @app.get("/a")
    def a() -> Response:
        return redirect("/b?from=a")

    @app.get("/b")
    async def b() -> Response:
        return redirect("/c", 301)

    @app.get("/c")
    def c() -> str:
        return f"arrived at {request.path}"

    @app.post("/old-form")
    def old_form() -> Response:
        return redirect("/new-form", 307)

    @app.post("/new-form")
    def new_form() -> str:
        return f"{request.method} {request.form['field']}"


def test_redirect_not_followed_by_default(app: MicroASGI, client: Any) -> None:
    _redirect_app(app)
    response = client.get("/a")
    assert response.status_code == 302
    assert response.location == "/b?from=a"
    assert response.history == ()  # a tuple, as Werkzeug's


def test_follow_redirects_history_and_request(app: MicroASGI, client: Any) -> None:
    _redirect_app(app)
    response = client.get("/a", follow_redirects=True)
    assert response.status_code == 200
    assert response.text == "arrived at /c"
    assert [r.status_code for r in response.history] == [302, 301]
    assert response.history[0].location == "/b?from=a"
    assert response.request.path == "/c"
    assert response.request.method == "GET"


def test_follow_307_keeps_method_and_body(app: MicroASGI, client: Any) -> None:
    _redirect_app(app)
    response = client.post("/old-form", data={"field": "kept"}, follow_redirects=True)
    assert response.text == "POST kept"
    assert response.request.path == "/new-form"
    assert [r.status_code for r in response.history] == [307]


# --- base_url -----------------------------------------------------------------------------------


def test_base_url_with_a_prefix(app: MicroASGI) -> None:
    @app.get("/where")
    def where() -> dict[str, str]:
        return {
            "path": request.path,
            "root_path": request.root_path,
            "script_root": request.script_root,
            "url": request.url,
            "host": request.host,
            "scheme": request.scheme,
        }

    client = app.test_client(base_url="https://example.org/prefix")
    try:
        assert client.get("/where?x=1").json == {
            "path": "/where",
            "root_path": "/prefix",
            "script_root": "/prefix",
            "url": "https://example.org/prefix/where?x=1",
            "host": "example.org",
            "scheme": "https",
        }
    finally:
        client.close()


# --- exceptions -----------------------------------------------------------------------------------


def test_view_exception_propagates_when_testing(app: MicroASGI, client: Any) -> None:
    @app.get("/sync")
    def sync_boom() -> str:
        raise ZeroDivisionError("sync boom")

    @app.get("/async")
    async def async_boom() -> str:
        raise ZeroDivisionError("async boom")

    with pytest.raises(ZeroDivisionError, match="sync boom"):
        client.get("/sync")
    with pytest.raises(ZeroDivisionError, match="async boom"):
        client.get("/async")


def test_exception_becomes_500_when_not_propagating(app: MicroASGI, client: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/")
    def boom() -> str:
        raise ZeroDivisionError("boom")

    assert client.get("/").status_code == 500


async def test_async_client_exception_propagates(app: MicroASGI) -> None:
    @app.get("/")
    async def boom() -> str:
        raise KeyError("async client")

    client = app.async_test_client()
    with pytest.raises(KeyError, match="async client"):
        await client.get("/")


# --- session_transaction ---------------------------------------------------------------------


def _session_app(app: MicroASGI) -> None:
    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return {"user_id": session.get("user_id")}

    @app.post("/login/<int:user_id>")
    def login(user_id: int) -> str:
        session["user_id"] = user_id
        session["roles"] = ["admin"]
        return "logged in"


def test_session_transaction_sets_values_the_next_request_sees(app: MicroASGI, client: Any) -> None:
    _session_app(app)
    assert client.get("/whoami").json == {"user_id": None}
    with client.session_transaction() as sess:
        assert dict(sess) == {}
        sess["user_id"] = 42
    assert client.get("/whoami").json == {"user_id": 42}


def test_session_transaction_reads_what_a_view_stored(app: MicroASGI, client: Any) -> None:
    _session_app(app)
    client.post("/login/7")
    with client.session_transaction() as sess:
        assert sess["user_id"] == 7
        assert sess["roles"] == ["admin"]
        sess["user_id"] = 8
    assert client.get("/whoami").json == {"user_id": 8}


def test_session_transaction_without_changes_keeps_the_session(app: MicroASGI, client: Any) -> None:
    _session_app(app)
    client.post("/login/3")
    with client.session_transaction() as sess:
        assert sess["user_id"] == 3
    assert client.get("/whoami").json == {"user_id": 3}


def test_session_transaction_with_a_base_url_prefix(app: MicroASGI) -> None:
    _session_app(app)
    client = app.test_client(base_url="http://localhost/prefix")
    try:
        with client.session_transaction() as sess:
            sess["user_id"] = 99
        assert client.get("/whoami").json == {"user_id": 99}
    finally:
        client.close()


# --- the async client --------------------------------------------------------------------------


async def test_async_client_basics(echo_app: MicroASGI) -> None:
    _cookie_app(echo_app)
    _session_app(echo_app)
    client = echo_app.async_test_client()

    response = await client.get("/echo?x=1", headers={"X-Thing": "t"})
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.json["args"] == {"x": ["1"]}
    assert response.json["x_thing"] == "t"

    body = (await client.post("/echo", json={"a": 1})).json
    assert (body["method"], body["json"]) == ("POST", {"a": 1})
    body = (await client.put("/echo", data={"f": "v"})).json
    assert (body["method"], body["form"]) == ("PUT", {"f": ["v"]})
    body = (await client.delete("/echo", query_string={"q": "z"})).json
    assert (body["method"], body["args"]) == ("DELETE", {"q": ["z"]})

    await client.get("/set?v=async")
    assert (await client.get("/read")).json == {"flavor": "async"}

    await client.post("/login/5")
    assert (await client.get("/whoami")).json == {"user_id": 5}
    with client.session_transaction() as sess:
        assert sess["user_id"] == 5
        sess["user_id"] = 6
    assert (await client.get("/whoami")).json == {"user_id": 6}


async def test_async_client_session_transaction_with_async_hooks(app: MicroASGI) -> None:
    # An async app's teardown hooks are async; the async client's transaction must cope.
    seen: list[str] = []

    @app.teardown_request
    async def td(exc: BaseException | None) -> None:
        seen.append("teardown")

    @app.get("/")
    async def index() -> str:
        return str(session.get("user"))

    client = app.async_test_client()
    transaction = client.session_transaction()
    failure = None
    # On failure the hook's coroutine is never awaited: keep that warning from
    # outliving this test, which reports the failure itself.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            if hasattr(transaction, "__aenter__"):
                async with transaction as sess:
                    sess["user"] = "ann"
            else:
                with transaction as sess:
                    sess["user"] = "ann"
        except RuntimeError as exc:
            failure = str(exc)
        gc.collect()
    if failure is not None:
        pytest.fail(f"session_transaction() failed with an async hook: {failure}")
    assert (await client.get("/")).text == "ann"
    assert seen[-1] == "teardown"


async def test_async_client_follow_redirects(app: MicroASGI) -> None:
    _redirect_app(app)
    client = app.async_test_client()
    response = await client.get("/a", follow_redirects=True)
    assert response.text == "arrived at /c"
    assert [r.status_code for r in response.history] == [302, 301]
    assert response.request.path == "/c"


async def test_async_client_base_url(app: MicroASGI) -> None:
    @app.get("/where")
    async def where() -> str:
        return f"{request.root_path}|{request.path}"

    client = app.async_test_client(base_url="http://localhost/mounted")
    assert (await client.get("/where")).text == "/mounted|/where"


async def test_async_client_use_cookies_false(app: MicroASGI) -> None:
    _cookie_app(app)
    client = app.async_test_client(use_cookies=False)
    await client.get("/set")
    assert (await client.get("/read")).json == {}
