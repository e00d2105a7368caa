"""The application as a Flask user drives it: routing, hooks, errors, config, lifespan,
url_for, ASGI middleware and the thread bridge."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest

from microasgi import (
    BuildError,
    Forbidden,
    HTTPException,
    InternalServerError,
    MicroASGI,
    NotFound,
    Response,
    abort,
    current_app,
    g,
    make_response,
    request,
    url_for,
    websocket,
)
from microasgi.routing.converters import BaseConverter

from .asgi import http_scope
from .kinds import KIND, as_kind


def allow_set(value: str | None) -> set[str]:
    assert value is not None
    return {method.strip() for method in value.split(",")}


# --- routing ----------------------------------------------------------------------


@KIND
def test_methods_reach_the_view(app: MicroASGI, client: Any, kind: str) -> None:
    def item() -> str:
        return f"{request.method} item"

    app.route("/item", methods=["GET", "POST", "PUT"])(as_kind(kind, item))

    assert client.get("/item").text == "GET item"
    assert client.post("/item").text == "POST item"
    assert client.put("/item").text == "PUT item"
    response = client.delete("/item")
    assert response.status_code == 405
    assert allow_set(response.headers.get("Allow")) == {"GET", "HEAD", "OPTIONS", "POST", "PUT"}


@KIND
def test_automatic_head_runs_get_without_body(app: MicroASGI, client: Any, kind: str) -> None:
    seen: list[str] = []

    def page() -> Response:
        seen.append(request.method)
        return Response("hello world", headers={"X-Page": "1"})

    app.get("/page")(as_kind(kind, page))

    response = client.head("/page")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "11"
    assert response.headers["X-Page"] == "1"
    assert seen == ["HEAD"]


def test_head_on_a_streamed_view_closes_the_generator(app: MicroASGI, client: Any) -> None:
    events: list[str] = []

    @app.get("/stream")
    def stream() -> Response:
        def generate() -> Any:
            try:
                events.append("started")
                yield "chunk"
            finally:
                events.append("closed")

        return Response(generate(), mimetype="text/plain")

    response = client.head("/stream")
    assert response.status_code == 200
    assert response.data == b""
    assert response.mimetype == "text/plain"
    assert events in ([], ["started", "closed"])  # never started, or started and closed
    assert client.get("/stream").text == "chunk"
    assert events[-1] == "closed"


def test_automatic_options_lists_allowed_methods(app: MicroASGI, client: Any) -> None:
    called: list[str] = []

    @app.route("/thing", methods=["GET", "POST"])
    def thing() -> str:
        called.append(request.method)
        return "x"

    @app.delete("/thing")
    def remove_thing() -> str:
        return "deleted"

    response = client.options("/thing")
    assert response.status_code == 200
    assert response.data == b""
    assert allow_set(response.headers.get("Allow")) == {"GET", "HEAD", "OPTIONS", "POST", "DELETE"}
    assert called == []
    assert client.options("/nothing-here").status_code == 404


def test_options_handled_by_the_view_when_it_asks_for_it(app: MicroASGI, client: Any) -> None:
    @app.route("/cors", methods=["GET", "OPTIONS"])
    def cors() -> tuple[str, int, dict[str, str]]:
        return f"view {request.method}", 200, {"X-Custom": "yes"}

    response = client.options("/cors")
    assert response.text == "view OPTIONS"
    assert response.headers["X-Custom"] == "yes"


def test_provide_automatic_options_false_gives_405(app: MicroASGI, client: Any) -> None:
    @app.route("/no-options", provide_automatic_options=False)
    def no_options() -> str:
        return "x"

    response = client.options("/no-options")
    assert response.status_code == 405
    assert allow_set(response.headers.get("Allow")) == {"GET", "HEAD"}


def test_wrong_method_is_405_with_allow(app: MicroASGI, client: Any) -> None:
    @app.post("/submit")
    async def submit() -> str:
        return "ok"

    response = client.get("/submit")
    assert response.status_code == 405
    assert allow_set(response.headers.get("Allow")) == {"OPTIONS", "POST"}
    assert b"Method Not Allowed" in response.data


def test_unknown_url_is_404(app: MicroASGI, client: Any) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"Not Found" in response.data


def test_strict_slash_redirect_is_308_to_slash_url(app: MicroASGI, client: Any) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    response = client.get("/folder")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/folder/"
    assert client.get("/folder/").text == "folder"


def test_strict_slash_redirect_keeps_the_query_string(app: MicroASGI, client: Any) -> None:
    # Werkzeug's RequestRedirect carries the query string over: /x?a=1 -> /x/?a=1.
    @app.route("/folder/")
    def folder() -> str:
        return "folder " + request.args.get("a", "-")

    response = client.get("/folder?a=1&b=two")
    assert response.status_code == 308
    location = urlsplit(response.location)
    assert location.path == "/folder/"
    assert location.query == "a=1&b=two"
    followed = client.get("/folder?a=1", follow_redirects=True)
    assert followed.text == "folder 1"


def test_strict_slash_redirect_keeps_the_root_path(app: MicroASGI) -> None:
    # Mounted at /prefix, the redirect must stay under /prefix (Werkzeug joins SCRIPT_NAME).
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    client = app.test_client(base_url="http://localhost/prefix")
    try:
        response = client.get("/folder")
        assert response.status_code == 308
        assert urlsplit(response.location).path == "/prefix/folder/"
    finally:
        client.close()


def test_route_endpoint_and_defaults(app: MicroASGI, client: Any) -> None:
    @app.route("/page/", defaults={"n": 1}, endpoint="page")
    @app.route("/page/<int:n>", endpoint="page")
    def show_page(n: int) -> str:
        return f"page {n} of {request.endpoint}"

    assert client.get("/page/").text == "page 1 of page"
    assert client.get("/page/7").text == "page 7 of page"
    # The default value has one canonical URL: Werkzeug redirects to it.
    response = client.get("/page/1")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/page/"
    assert "show_page" not in app.view_functions
    assert app.view_functions["page"] is show_page
    with app.test_request_context():
        assert url_for("page") == "/page/"
        assert url_for("page", n=1) == "/page/"
        assert url_for("page", n=4) == "/page/4"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_decorators(app: MicroASGI, client: Any, method: str) -> None:
    decorator = getattr(app, method)

    @decorator("/m")
    def handler() -> str:
        return request.method

    assert getattr(client, method)("/m").text == method.upper()
    other = "post" if method != "post" else "get"
    response = getattr(client, other)("/m")
    assert response.status_code == 405
    expected = {method.upper(), "OPTIONS"} | ({"HEAD"} if method == "get" else set())
    assert allow_set(response.headers.get("Allow")) == expected


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_decorators_refuse_methods_argument(app: MicroASGI, method: str) -> None:
    with pytest.raises(TypeError, match="Use the 'route' decorator to use the 'methods' argument"):
        getattr(app, method)("/m", methods=["GET"])


def test_methods_as_a_string_is_a_type_error(app: MicroASGI) -> None:
    with pytest.raises(TypeError, match="list of strings"):

        @app.route("/s", methods="POST")
        def s() -> str:
            return "s"


def test_duplicate_endpoint_with_another_function(app: MicroASGI) -> None:
    @app.route("/a", endpoint="same")
    def first() -> str:
        return "a"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: same"):

        @app.route("/b", endpoint="same")
        def second() -> str:
            return "b"


def test_same_function_on_two_rules_is_fine(app: MicroASGI, client: Any) -> None:
    def both() -> str:
        return request.path

    app.add_url_rule("/one", view_func=both)
    app.add_url_rule("/two", view_func=both)
    assert client.get("/one").text == "/one"
    assert client.get("/two").text == "/two"


# --- return values -------------------------------------------------------------------


@KIND
@pytest.mark.parametrize(
    ("value", "status", "body", "mimetype", "header"),
    [
        ("text", 200, b"text", "text/html", None),
        (b"bytes", 200, b"bytes", "text/html", None),
        ({"a": 1}, 200, b'{"a":1}\n', "application/json", None),
        ([1, 2], 200, b"[1,2]\n", "application/json", None),
        (("created", 201), 201, b"created", "text/html", None),
        (("with header", {"X-H": "v"}), 200, b"with header", "text/html", "v"),
        (("with list header", [("X-H", "w")]), 200, b"with list header", "text/html", "w"),
        (("all", 202, {"X-H": "z"}), 202, b"all", "text/html", "z"),
        (({"err": "x"}, 400), 400, b'{"err":"x"}\n', "application/json", None),
    ],
)
def test_view_return_values(
    app: MicroASGI,
    client: Any,
    kind: str,
    value: Any,
    status: int,
    body: bytes,
    mimetype: str,
    header: str | None,
) -> None:
    app.get("/")(as_kind(kind, lambda: value))
    response = client.get("/")
    assert response.status_code == status
    assert response.data == body
    assert response.mimetype == mimetype
    assert response.headers.get("X-H") == header


@KIND
def test_view_returning_none_names_the_view(app: MicroASGI, client: Any, kind: str) -> None:
    def forgetful() -> None:
        return None

    app.get("/")(as_kind(kind, forgetful))
    with pytest.raises(TypeError, match="forgetful"):
        client.get("/")


def test_app_make_response(app: MicroASGI) -> None:
    with app.app_context():
        response = app.make_response("body")
        assert isinstance(response, Response)
        assert (response.status_code, response.get_data(), response.mimetype) == (
            200,
            b"body",
            "text/html",
        )
        response = app.make_response(("made", 201, {"X-A": "1"}))
        assert (response.status_code, response.get_data(), response.headers["X-A"]) == (
            201,
            b"made",
            "1",
        )
        response = app.make_response({"k": "v"})
        assert response.mimetype == "application/json"
        assert response.get_json() == {"k": "v"}
        existing = Response("same", 203)
        assert app.make_response(existing) is existing
        with pytest.raises(TypeError, match="tuple"):
            app.make_response(("a", 200, {}, "extra"))
        with pytest.raises(TypeError):
            app.make_response(None)
        with pytest.raises(TypeError):
            app.make_response(12.5)


@KIND
def test_make_response_helper_in_a_view(app: MicroASGI, client: Any, kind: str) -> None:
    def view() -> Response:
        response = make_response("teapot", 418)
        response.headers["X-Made"] = "yes"
        return response

    app.get("/")(as_kind(kind, view))
    response = client.get("/")
    assert response.status_code == 418
    assert response.text == "teapot"
    assert response.headers["X-Made"] == "yes"


# --- hooks -----------------------------------------------------------------------------


@KIND
def test_before_request_order_and_short_circuit(app: MicroASGI, client: Any, kind: str) -> None:
    events: list[str] = []

    def first() -> None:
        events.append("first")

    def second() -> str | None:
        events.append("second")
        if request.args.get("stop"):
            return "stopped by second"
        return None

    def third() -> None:
        events.append("third")

    def after(response: Response) -> Response:
        events.append("after")
        response.headers["X-After"] = "ran"
        return response

    for func in (first, second, third):
        app.before_request(as_kind(kind, func))
    app.after_request(as_kind(kind, after))

    @app.get("/")
    def index() -> str:
        events.append("view")
        return "view"

    response = client.get("/")
    assert response.text == "view"
    assert events == ["first", "second", "third", "view", "after"]

    events.clear()
    response = client.get("/?stop=1")
    assert response.status_code == 200
    assert response.text == "stopped by second"
    assert response.headers["X-After"] == "ran"
    assert events == ["first", "second", "after"]


def test_before_request_sees_the_matched_rule(app: MicroASGI, client: Any) -> None:
    seen: list[Any] = []

    @app.before_request
    def inspect_request() -> None:
        rule = request.url_rule.rule if request.url_rule else None
        seen.append((request.endpoint, request.view_args, rule))

    @app.get("/users/<int:user_id>")
    def show_user(user_id: int) -> str:
        return str(user_id)

    assert client.get("/users/4").text == "4"
    assert client.get("/nope").status_code == 404
    assert seen == [("show_user", {"user_id": 4}, "/users/<int:user_id>"), (None, None, None)]


@KIND
def test_before_request_runs_for_404_and_can_answer(app: MicroASGI, client: Any, kind: str) -> None:
    def intercept() -> tuple[str, int] | None:
        if request.path == "/hidden":
            return "intercepted", 202
        return None

    app.before_request(as_kind(kind, intercept))
    response = client.get("/hidden")
    assert (response.status_code, response.text) == (202, "intercepted")
    assert client.get("/other").status_code == 404


@KIND
def test_after_request_runs_in_reverse_order(app: MicroASGI, client: Any, kind: str) -> None:
    order: list[str] = []

    def make_hook(name: str) -> Callable[[Response], Response]:
        def hook(response: Response) -> Response:
            order.append(name)
            response.headers["X-Trail"] = response.headers.get("X-Trail", "") + name
            return response

        hook.__name__ = f"hook_{name}"
        return hook

    for name in "abc":
        app.after_request(as_kind(kind, make_hook(name)))

    @app.get("/")
    async def index() -> str:
        return "x"

    response = client.get("/")
    assert order == ["c", "b", "a"]
    assert response.headers["X-Trail"] == "cba"


@KIND
def test_after_request_can_replace_the_response(app: MicroASGI, client: Any, kind: str) -> None:
    def replace(response: Response) -> Response:
        return Response(f"replaced {response.status_code}", 299, headers={"X-New": "1"})

    app.after_request(as_kind(kind, replace))

    @app.get("/")
    def index() -> str:
        return "original"

    response = client.get("/")
    assert response.status_code == 299
    assert response.text == "replaced 200"
    assert response.headers["X-New"] == "1"


def test_after_request_runs_for_404(app: MicroASGI, client: Any) -> None:
    @app.after_request
    def tag(response: Response) -> Response:
        response.headers["X-Tag"] = str(response.status_code)
        return response

    response = client.get("/missing")
    assert response.status_code == 404
    assert response.headers["X-Tag"] == "404"


def test_a_subclass_overriding_process_response_sees_every_response() -> None:
    # Flask documents process_response as a method to override, with Flask's
    # signature: the request path calls the override for every response.
    class TaggingApp(MicroASGI):
        def process_response(self, response: Response) -> Response:
            response = super().process_response(response)
            response.headers["X-Processed"] = "yes"
            return response

    app = TaggingApp(__name__)

    @app.get("/")
    async def index() -> str:
        return "hello"

    client = app.test_client()
    assert client.get("/").headers.get("X-Processed") == "yes"
    assert client.get("/missing").headers.get("X-Processed") == "yes"


@KIND
def test_a_subclass_overriding_dispatch_request_is_called(kind: str) -> None:
    # Flask's signature: no arguments, the request is the current one; it calls
    # every view (async ones too, through ensure_sync).
    class CountingApp(MicroASGI):
        calls = 0

        def dispatch_request(self) -> Any:
            CountingApp.calls += 1
            assert request.method in ("GET", "OPTIONS")  # the current request
            return super().dispatch_request()

    app = CountingApp(__name__)
    app.get("/")(as_kind(kind, lambda: "hello"))

    client = app.test_client()
    assert client.get("/").text == "hello"
    assert client.options("/").status_code == 200
    assert CountingApp.calls == 2


def test_after_request_runs_for_the_500_response(app: MicroASGI, client: Any) -> None:
    # Flask's handle_exception finalizes the 500 response, so after_request hooks
    # (CORS headers, say) apply to it as well.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.after_request
    def tag(response: Response) -> Response:
        response.headers["X-Tag"] = str(response.status_code)
        return response

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers.get("X-Tag") == "500"


@KIND
def test_teardown_request_gets_none_or_the_exception(
    app: MicroASGI, client: Any, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[tuple[str, BaseException | None]] = []
    failure = ValueError("view failed")

    def first(exc: BaseException | None) -> None:
        seen.append(("first", exc))

    def second(exc: BaseException | None) -> None:
        seen.append(("second", exc))

    app.teardown_request(as_kind(kind, first))
    app.teardown_request(as_kind(kind, second))

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    @app.get("/fail")
    def fail() -> str:
        raise failure

    assert client.get("/ok").text == "ok"
    assert seen == [("second", None), ("first", None)]

    seen.clear()
    response = client.get("/fail")
    assert response.status_code == 500
    assert b"view failed" not in response.data
    assert seen == [("second", failure), ("first", failure)]


def test_teardown_request_sees_the_request_and_runs_when_propagating(
    app: MicroASGI, client: Any
) -> None:
    seen: list[tuple[str, str]] = []

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        seen.append((request.path, type(exc).__name__))

    @app.get("/boom")
    def boom() -> str:
        raise KeyError("k")

    with pytest.raises(KeyError):
        client.get("/boom")
    assert seen == [("/boom", "KeyError")]


def test_handled_error_is_not_given_to_teardown(app: MicroASGI, client: Any) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.errorhandler(ValueError)
    def handle(exc: ValueError) -> tuple[str, int]:
        return "handled", 400

    @app.get("/")
    def index() -> str:
        raise ValueError("x")

    assert client.get("/").status_code == 400
    assert seen == [None]


def test_teardown_request_error_does_not_stop_the_others(app: MicroASGI, client: Any) -> None:
    seen: list[str] = []

    @app.teardown_request
    def last(exc: BaseException | None) -> None:
        seen.append("last")

    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        seen.append("broken")
        raise RuntimeError("teardown bug")

    @app.get("/")
    def index() -> str:
        return "ok"

    assert client.get("/").text == "ok"
    assert seen == ["broken", "last"]


@KIND
def test_teardown_appcontext_runs_after_teardown_request(
    app: MicroASGI, client: Any, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[tuple[str, Any]] = []

    def td_request(exc: BaseException | None) -> None:
        seen.append(("request", exc))

    def td_app(exc: BaseException | None) -> None:
        seen.append(("app", exc))

    app.teardown_request(as_kind(kind, td_request))
    app.teardown_appcontext(as_kind(kind, td_app))

    failure = RuntimeError("x")

    @app.get("/")
    def index() -> str:
        if request.args.get("fail"):
            raise failure
        return "ok"

    client.get("/")  # the first request also starts the app (see the test below)
    seen.clear()
    client.get("/")
    assert seen == [("request", None), ("app", None)]
    seen.clear()
    assert client.get("/?fail=1").status_code == 500
    assert seen == [("request", failure), ("app", failure)]


def test_teardown_appcontext_runs_once_for_the_first_request(app: MicroASGI, client: Any) -> None:
    # No lifespan hooks are registered: as in Flask, one request is one app context.
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.get("/")
    def index() -> str:
        return "ok"

    assert client.get("/").text == "ok"
    assert seen == [None]


@KIND
def test_url_value_preprocessor_and_url_defaults(app: MicroASGI, client: Any, kind: str) -> None:
    @app.url_value_preprocessor
    def pull_lang_code(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang_code = values.pop("lang_code", None) if values else None

    @app.url_defaults
    def add_lang_code(endpoint: str, values: dict[str, Any]) -> None:
        if "lang_code" in values or not g.get("lang_code"):
            return
        if endpoint in ("index", "about"):
            values["lang_code"] = g.lang_code

    def index() -> str:
        return f"{g.lang_code} {url_for('index')} {url_for('about', page=2)}"

    def about() -> str:
        return f"about {g.lang_code} {url_for('index', lang_code='fr')}"

    app.add_url_rule("/<lang_code>/", view_func=as_kind(kind, index))
    app.add_url_rule("/<lang_code>/about", view_func=as_kind(kind, about))

    assert client.get("/de/").text == "de /de/ /de/about?page=2"
    assert client.get("/en/about").text == "about en /fr/"


@KIND
def test_async_url_value_preprocessor_is_awaited(app: MicroASGI, client: Any, kind: str) -> None:
    # One that does I/O (here a sleep) to load what the URL names.
    @app.url_value_preprocessor
    async def load_user(endpoint: str | None, values: dict[str, Any] | None) -> None:
        await anyio.sleep(0)
        g.user = f"user {values.pop('user_id')}" if values else None

    def profile() -> str:
        return g.user

    app.add_url_rule("/users/<int:user_id>", view_func=as_kind(kind, profile))
    assert client.get("/users/7").text == "user 7"


def test_async_url_value_preprocessor_on_a_websocket(app: MicroASGI, client: Any) -> None:
    @app.url_value_preprocessor
    async def load_room(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.room = values.pop("room") if values else None

    @app.websocket("/rooms/<room>")
    async def room() -> None:
        await websocket.send(f"joined {g.room}")

    with client.websocket_connect("/rooms/blue") as ws:
        assert ws.receive_text() == "joined blue"


def test_url_map_is_endpoint_expecting(app: MicroASGI, client: Any) -> None:
    # The URL processor example of Flask's docs relies on this Werkzeug Map method.
    @app.get("/<lang_code>/")
    def index() -> str:
        return "x"

    @app.get("/plain")
    def plain() -> str:
        return "y"

    assert app.url_map.is_endpoint_expecting("index", "lang_code") is True
    assert app.url_map.is_endpoint_expecting("plain", "lang_code") is False


# --- error handlers ----------------------------------------------------------------------


@KIND
def test_error_handler_by_code_for_unknown_urls(app: MicroASGI, client: Any, kind: str) -> None:
    def not_found(error: NotFound) -> tuple[str, int]:
        assert isinstance(error, NotFound)
        return f"custom 404 for {request.path}", 404

    app.register_error_handler(404, as_kind(kind, not_found))
    response = client.get("/missing")
    assert (response.status_code, response.text) == (404, "custom 404 for /missing")


@KIND
def test_error_handler_for_405(app: MicroASGI, client: Any, kind: str) -> None:
    def not_allowed(error: HTTPException) -> tuple[str, int]:
        return f"no {request.method} here", 405

    app.errorhandler(405)(as_kind(kind, not_allowed))

    @app.get("/only-get")
    def only_get() -> str:
        return "x"

    response = client.post("/only-get")
    assert (response.status_code, response.text) == (405, "no POST here")


@KIND
def test_error_handler_by_exception_class(app: MicroASGI, client: Any, kind: str) -> None:
    class AppError(Exception):
        pass

    class DetailedError(AppError):
        pass

    def handle(error: AppError) -> tuple[str, int]:
        return f"{type(error).__name__}: {error}", 418

    app.errorhandler(AppError)(as_kind(kind, handle))

    @app.get("/base")
    async def base() -> str:
        raise AppError("base")

    @app.get("/sub")
    def sub() -> str:
        raise DetailedError("sub")

    assert (client.get("/base").status_code, client.get("/base").text) == (418, "AppError: base")
    assert client.get("/sub").text == "DetailedError: sub"


def test_most_specific_error_handler_wins(app: MicroASGI, client: Any) -> None:
    class AppError(Exception):
        pass

    class DetailedError(AppError):
        pass

    @app.errorhandler(AppError)
    def general(error: Exception) -> str:
        return "general"

    @app.errorhandler(DetailedError)
    async def specific(error: Exception) -> str:
        return "specific"

    @app.get("/<which>")
    def raiser(which: str) -> str:
        raise DetailedError() if which == "sub" else AppError()

    assert client.get("/sub").text == "specific"
    assert client.get("/base").text == "general"


def test_abort_reaches_the_handler_with_its_description(app: MicroASGI, client: Any) -> None:
    @app.errorhandler(Forbidden)
    async def forbidden(error: Forbidden) -> tuple[dict[str, Any], int]:
        return {"code": error.code, "description": error.description}, error.code

    @app.get("/admin")
    def admin() -> str:
        abort(403, "Admins only")

    response = client.get("/admin")
    assert response.status_code == 403
    assert response.json == {"code": 403, "description": "Admins only"}


def test_http_exception_handler_catches_every_http_error(app: MicroASGI, client: Any) -> None:
    @app.errorhandler(HTTPException)
    def any_http(error: HTTPException) -> tuple[str, int]:
        return f"http {error.code}", error.code

    @app.get("/gone")
    def gone() -> str:
        abort(410)

    assert client.get("/missing").text == "http 404"
    assert client.get("/gone").text == "http 410"
    assert client.post("/gone").text == "http 405"


def test_500_handler_gets_the_original_exception(app: MicroASGI, client: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failure = ZeroDivisionError("division")

    @app.errorhandler(500)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        assert isinstance(error, InternalServerError)
        assert error.original_exception is failure
        return "sorry", 500

    @app.get("/")
    def index() -> str:
        raise failure

    response = client.get("/")
    assert (response.status_code, response.text) == (500, "sorry")


def test_unhandled_error_is_logged_and_answered_with_bare_500(
    app: MicroASGI, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/secret")
    def secret() -> str:
        raise RuntimeError("database password is hunter2")

    response = client.get("/secret")
    assert response.status_code == 500
    assert b"hunter2" not in response.data
    assert b"Traceback" not in response.data
    records = [r for r in caplog.records if r.name == app.name and r.levelname == "ERROR"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].exc_info[1] is not None
    assert str(records[0].exc_info[1]) == "database password is hunter2"
    assert "/secret" in records[0].getMessage()


def test_testing_propagates_unhandled_exceptions(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    async def index() -> str:
        raise LookupError("propagated")

    with pytest.raises(LookupError, match="propagated"):
        client.get("/")


def test_unknown_error_code_is_refused(app: MicroASGI) -> None:
    with pytest.raises(ValueError, match="999"):
        app.register_error_handler(999, lambda e: "x")


async def cyclic_garbage(app: MicroASGI, scope: dict[str, Any], receive: Any, send: Any) -> int:
    """Objects the garbage collector finds in cycles after 50 calls of ``app`` with ``scope``."""
    await app(dict(scope), receive, send)  # the first request plans the routes
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            await app(dict(scope), receive, send)
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/page/", 200, id="hit"),
        pytest.param("GET", "/missing", 404, id="not-found"),
        pytest.param("POST", "/page/", 405, id="method-not-allowed"),
        pytest.param("GET", "/page", 308, id="slash-redirect"),
        pytest.param("GET", "/teapot", 418, id="abort"),
        pytest.param("GET", "/boom", 500, id="server-error"),
        pytest.param("GET", "/users/banned", 403, id="converter-abort"),
    ],
)
async def test_answers_leave_no_reference_cycles(
    method: str, path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    # A cycle per request (an exception's traceback holding the frame that holds
    # the request) makes the garbage collector run far more often under load.
    app = MicroASGI(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    class UserConverter(BaseConverter):
        def to_python(self, value: str) -> str:
            if value == "banned":
                abort(403)  # as in Flask: answered like a routing error
            return value

    app.url_map.converters["user"] = UserConverter

    @app.get("/users/<user:name>")
    async def user(name: str) -> str:
        return name

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/page/")
    async def page() -> str:
        return "page"

    @app.get("/teapot")
    async def teapot() -> None:
        abort(418)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    assert await cyclic_garbage(app, http_scope(path, method), receive, send) == 0
    assert set(statuses) == {status}


async def test_a_refused_websocket_leaves_no_reference_cycle() -> None:
    # The websocket path's routing errors too (a handshake to an unknown path).
    app = MicroASGI(__name__)

    @app.websocket("/ws")
    async def ws() -> None:
        pass

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/missing",
        "raw_path": b"/missing", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "subprotocols": [],
    }  # fmt: skip
    assert await cyclic_garbage(app, scope, receive, send) == 0
    assert sent and all(m["type"] != "websocket.accept" for m in sent)


@pytest.mark.parametrize(
    "path",
    ["/def-boom", "/async-boom", "/bad-form", "/ws-handler"],
)
async def test_errors_with_a_body_leave_no_reference_cycle(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An error's traceback holds the frames it passed through; a frame holding
    # the error (or what holds it: the bridge's job, a kept form error) is a
    # cycle, which keeps the request and its body until the garbage collector
    # runs: with GC_TUNING, long after (hostile clients made that gigabytes).
    app = MicroASGI(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["MAX_FORM_PARTS"] = 1
    # Logged records would keep the errors (and what they hold) alive: not garbage.
    monkeypatch.setattr(app.logger, "disabled", True)

    @app.post("/def-boom")
    def def_boom() -> None:
        body = request.get_data()
        raise RuntimeError(f"boom with {len(body)} bytes")

    @app.post("/async-boom")
    async def async_boom() -> None:
        body = request.get_data()
        raise RuntimeError(f"boom with {len(body)} bytes")

    @app.post("/bad-form")
    async def bad_form() -> str:
        for _ in range(2):
            with contextlib.suppress(HTTPException):
                request.form  # noqa: B018 - 413, kept and raised on each read
        return "read twice"

    @app.websocket("/ws-handler")
    async def ws_handler() -> None:
        message = await websocket.receive()
        raise RuntimeError(f"handler failed on {len(message)}")

    form = (b"content-type", b"application/x-www-form-urlencoded")
    body = b"a=1&b=2&" + b"x" * 10_000

    if path == "/ws-handler":
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if not messages:
                messages.append({})
                return {"type": "websocket.connect"}
            return {"type": "websocket.receive", "text": "t" * 10_000}

        scope: dict[str, Any] = {
            "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver")], "subprotocols": [],
        }  # fmt: skip

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.close":
                messages.clear()

        assert await cyclic_garbage(app, scope, receive, send) == 0
        return

    async def http_receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def http_send(message: dict[str, Any]) -> None:
        pass

    sc = http_scope(path, "POST", headers=[form])
    assert await cyclic_garbage(app, sc, http_receive, http_send) == 0


# --- setup is frozen after the first request ----------------------------------------------


def test_setup_after_first_request_is_an_error(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        return "x"

    assert client.get("/").text == "x"

    def late() -> str:
        return "late"

    with pytest.raises(RuntimeError, match="'before_request'"):
        app.before_request(late)
    with pytest.raises(RuntimeError, match="'after_request'"):
        app.after_request(late)
    with pytest.raises(RuntimeError, match="'teardown_request'"):
        app.teardown_request(late)
    with pytest.raises(RuntimeError, match="'add_url_rule'"):
        app.add_url_rule("/late", view_func=late)
    with pytest.raises(RuntimeError, match="can no longer be called"):
        app.route("/late2")(late)
    with pytest.raises(RuntimeError, match="can no longer be called"):
        app.errorhandler(404)(late)
    assert client.get("/late").status_code == 404


# --- configuration and identity ------------------------------------------------------------


def test_config_from_mapping_and_attributes(app: MicroASGI) -> None:
    app.config.from_mapping({"MY_SETTING": 1}, OTHER="two", lower="ignored")
    assert app.config["MY_SETTING"] == 1
    assert app.config["OTHER"] == "two"
    assert "lower" not in app.config

    assert app.testing is True
    app.testing = False
    assert app.config["TESTING"] is False

    assert app.secret_key == "test secret"
    app.secret_key = "other"
    assert app.config["SECRET_KEY"] == "other"

    app.config["DEBUG"] = False
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True

    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)


def test_config_defaults(app: MicroASGI) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert app.config["APPLICATION_ROOT"] == "/"
    assert app.config["PREFERRED_URL_SCHEME"] == "http"
    assert app.config["SERVER_NAME"] is None
    assert isinstance(app.config["SYNC_THREAD_LIMIT"], int)
    assert isinstance(app.config["BODY_MEMORY_LIMIT"], int)


def test_name_logger_and_repr() -> None:
    app = MicroASGI("my_service.web")
    assert app.name == "my_service.web"
    assert app.logger.name == "my_service.web"
    assert app.logger is app.logger
    assert "my_service.web" in repr(app)


def test_flask_alias() -> None:
    from microasgi import Flask

    assert Flask is MicroASGI


def test_instance_path_default_and_explicit(tmp_path: Any) -> None:
    app = MicroASGI(__name__)
    here = os.path.dirname(os.path.abspath(__file__))
    assert app.root_path == here
    assert app.instance_path == os.path.join(here, "instance")

    explicit = MicroASGI(__name__, instance_path=str(tmp_path))
    assert explicit.instance_path == str(tmp_path)
    with pytest.raises(ValueError, match="absolute"):
        MicroASGI(__name__, instance_path="relative/instance")


def test_open_resource(tmp_path: Any) -> None:
    (tmp_path / "schema.sql").write_bytes(b"CREATE TABLE t (id int);\n")
    (tmp_path / "notes.txt").write_text("h\u00e9llo", encoding="utf-8")
    app = MicroASGI("resource_app", root_path=str(tmp_path))
    with app.open_resource("schema.sql") as f:
        assert f.read() == b"CREATE TABLE t (id int);\n"
    with app.open_resource("notes.txt", "r") as f:
        assert f.read() == "h\u00e9llo"
    with pytest.raises(ValueError, match="reading"):
        app.open_resource("schema.sql", "w")
    with pytest.raises(FileNotFoundError):
        app.open_resource("missing.txt")


# --- lifespan -----------------------------------------------------------------------------


def _register_lifespan(app: MicroASGI, events: list[str], kind: str) -> None:
    def before() -> None:
        events.append(f"before:{current_app.name}")

    def after() -> None:
        events.append("after")

    async def serving() -> Any:
        events.append("while:start")
        yield
        events.append("while:end")

    app.before_serving(as_kind(kind, before))
    app.after_serving(as_kind(kind, after))
    app.while_serving(serving)

    @app.get("/")
    def index() -> str:
        events.append("request")
        return "x"


@KIND
def test_lifespan_runs_once_with_the_sync_client(app: MicroASGI, kind: str) -> None:
    events: list[str] = []
    _register_lifespan(app, events, kind)
    client = app.test_client()
    try:
        with client:
            assert events == ["before:test_app", "while:start"]
            client.get("/")
            client.get("/")
        assert events == [
            "before:test_app",
            "while:start",
            "request",
            "request",
            "while:end",
            "after",
        ]
    finally:
        client.close()


@KIND
async def test_lifespan_runs_once_with_the_async_client(app: MicroASGI, kind: str) -> None:
    events: list[str] = []
    _register_lifespan(app, events, kind)
    async with app.async_test_client() as client:
        assert events == ["before:test_app", "while:start"]
        await client.get("/")
        await client.get("/")
    assert events == [
        "before:test_app",
        "while:start",
        "request",
        "request",
        "while:end",
        "after",
    ]


def test_failing_before_serving_fails_entering_the_client(app: MicroASGI) -> None:
    @app.before_serving
    def broken() -> None:
        raise ValueError("no database at db:5432")

    client = app.test_client()
    try:
        with pytest.raises(RuntimeError, match="no database at db:5432"), client:
            pass
    finally:
        client.close()


async def test_failing_before_serving_fails_entering_the_async_client(app: MicroASGI) -> None:
    @app.before_serving
    async def broken() -> None:
        raise ValueError("no cache at redis:6379")

    with pytest.raises(RuntimeError, match="no cache at redis:6379"):
        async with app.async_test_client():
            pass


@KIND
def test_without_lifespan_before_serving_runs_before_first_request(
    app: MicroASGI, client: Any, kind: str
) -> None:
    events: list[str] = []
    _register_lifespan(app, events, kind)
    client.get("/")
    client.get("/")
    assert events == ["before:test_app", "while:start", "request", "request"]


async def test_concurrent_first_requests_start_the_app_once(app: MicroASGI) -> None:
    starts: list[str] = []

    @app.before_serving
    async def start() -> None:
        starts.append("begin")
        await anyio.sleep(0.05)
        starts.append("end")

    @app.get("/")
    async def index() -> str:
        return ",".join(starts)

    client = app.async_test_client()
    answers: list[str] = []

    async def fetch() -> None:
        answers.append((await client.get("/")).text)

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(fetch)
    assert starts == ["begin", "end"]
    assert answers == ["begin,end"] * 8


def test_while_serving_needs_an_async_generator(app: MicroASGI) -> None:
    def not_a_generator() -> None:
        pass

    with pytest.raises(TypeError, match="async generator"):
        app.while_serving(not_a_generator)


class _Lifespan:
    """Drive the ASGI lifespan protocol by hand."""

    def __init__(self, *incoming: str) -> None:
        self.incoming = [{"type": t} for t in incoming]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


LIFESPAN_SCOPE = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}


async def test_raw_lifespan_protocol(app: MicroASGI) -> None:
    events: list[str] = []

    @app.before_serving
    def start() -> None:
        events.append("start")

    @app.after_serving
    async def stop() -> None:
        events.append("stop")

    proto = _Lifespan("lifespan.startup", "lifespan.shutdown")
    await app(dict(LIFESPAN_SCOPE, state={}), proto.receive, proto.send)
    assert proto.sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert events == ["start", "stop"]


async def test_raw_lifespan_startup_failed(app: MicroASGI) -> None:
    @app.before_serving
    async def start() -> None:
        raise ConnectionError("cannot reach the broker")

    proto = _Lifespan("lifespan.startup", "lifespan.shutdown")
    await app(dict(LIFESPAN_SCOPE, state={}), proto.receive, proto.send)
    assert len(proto.sent) == 1
    assert proto.sent[0]["type"] == "lifespan.startup.failed"
    assert "cannot reach the broker" in proto.sent[0]["message"]


async def test_raw_lifespan_shutdown_failed(app: MicroASGI) -> None:
    @app.after_serving
    def stop() -> None:
        raise OSError("flush failed")

    proto = _Lifespan("lifespan.startup", "lifespan.shutdown")
    await app(dict(LIFESPAN_SCOPE, state={}), proto.receive, proto.send)
    assert [m["type"] for m in proto.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.failed",
    ]
    assert "flush failed" in proto.sent[1]["message"]


async def test_lifespan_then_requests_do_not_rerun_before_serving(app: MicroASGI) -> None:
    count = 0

    @app.before_serving
    def start() -> None:
        nonlocal count
        count += 1

    @app.get("/")
    async def index() -> str:
        return str(count)

    proto = _Lifespan("lifespan.startup")
    # Stop the lifespan task after startup: only the startup half is driven here.
    startup_done = anyio.Event()

    async def send(message: dict[str, Any]) -> None:
        proto.sent.append(message)
        startup_done.set()

    async def receive() -> dict[str, Any]:
        if proto.incoming:
            return proto.incoming.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with anyio.create_task_group() as tg:
        tg.start_soon(app, dict(LIFESPAN_SCOPE, state={}), receive, send)
        await startup_done.wait()
        client = app.async_test_client()
        assert (await client.get("/")).text == "1"
        assert (await client.get("/")).text == "1"
        tg.cancel_scope.cancel()
    assert proto.sent == [{"type": "lifespan.startup.complete"}]
    assert count == 1


# --- ASGI middleware ------------------------------------------------------------------------


class AddHeaderMiddleware:
    """A minimal ASGI middleware: adds a header to every HTTP response."""

    def __init__(self, app: Any, value: str) -> None:
        self.app = app
        self.value = value
        self.scopes: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scopes.append(scope["type"])
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"x-middleware", self.value.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


def test_asgi_app_can_be_wrapped_by_middleware(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        return "wrapped"

    middleware = AddHeaderMiddleware(app.asgi_app, "on")
    app.asgi_app = middleware
    response = client.get("/")
    assert response.text == "wrapped"
    assert response.headers["X-Middleware"] == "on"
    assert client.get("/missing").headers["X-Middleware"] == "on"
    assert middleware.scopes == ["http", "http"]


async def test_calling_the_app_goes_through_the_middleware(app: MicroASGI) -> None:
    @app.get("/")
    async def index() -> str:
        return "direct"

    app.asgi_app = AddHeaderMiddleware(app.asgi_app, "direct")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 1234),
        "server": ("example.com", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    assert (b"x-middleware", b"direct") in sent[0]["headers"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body == b"direct"


# --- url_for -------------------------------------------------------------------------------


def _url_app(app: MicroASGI) -> None:
    @app.get("/")
    def index() -> str:
        return "index"

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return str(user_id)

    def item() -> str:
        return request.method

    app.add_url_rule("/item/read", "item", item, methods=["GET"])
    app.add_url_rule("/item/write", "item", item, methods=["POST"])


@KIND
def test_url_for_in_a_view_is_relative_to_the_root_path(app: MicroASGI, kind: str) -> None:
    _url_app(app)

    def links() -> dict[str, str]:
        return {
            "index": url_for("index"),
            "user": url_for("user", user_id=3),
            "external": url_for("user", user_id=3, _external=True),
            "https": url_for("index", _scheme="https", _external=True),
            "anchor": url_for("user", user_id=3, _anchor="bio section"),
            "query": url_for("user", user_id=3, page=2, q="a b", tag=["x", "y"]),
            "post": url_for("item", _method="POST"),
            "get": url_for("item", _method="GET"),
        }

    app.get("/links")(as_kind(kind, links))
    client = app.test_client(base_url="http://localhost/prefix")
    try:
        response = client.get("/links")
    finally:
        client.close()
    assert response.json == {
        "index": "/prefix/",
        "user": "/prefix/users/3",
        "external": "http://localhost/prefix/users/3",
        "https": "https://localhost/prefix/",
        "anchor": "/prefix/users/3#bio%20section",
        "query": "/prefix/users/3?page=2&q=a+b&tag=x&tag=y",
        "post": "/prefix/item/write",
        "get": "/prefix/item/read",
    }


def test_url_for_scheme_without_external_is_an_error(app: MicroASGI) -> None:
    _url_app(app)
    with app.test_request_context(), pytest.raises(ValueError, match="_external"):
        url_for("index", _scheme="https", _external=False)


def test_url_for_build_error_messages(app: MicroASGI) -> None:
    _url_app(app)
    with app.test_request_context():
        with pytest.raises(BuildError) as info:
            url_for("indx")
        assert "Could not build url for endpoint 'indx'" in str(info.value)
        assert "Did you mean 'index' instead?" in str(info.value)

        with pytest.raises(BuildError) as info:
            url_for("user")
        assert "Could not build url for endpoint 'user'" in str(info.value)
        assert "user_id" in str(info.value)

        with pytest.raises(BuildError, match="item"):
            url_for("item", _method="DELETE")


def test_url_for_outside_a_request_needs_server_name(app: MicroASGI) -> None:
    _url_app(app)
    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")
    with pytest.raises(RuntimeError):
        url_for("index")


def test_url_for_with_server_name_in_app_context(app: MicroASGI) -> None:
    _url_app(app)
    app.config.update(SERVER_NAME="example.com")
    with app.app_context():
        assert url_for("user", user_id=5) == "http://example.com/users/5"
        assert url_for("index", _scheme="https") == "https://example.com/"
    app.config.update(APPLICATION_ROOT="/api", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert url_for("user", user_id=5, x=1) == "https://example.com/api/users/5?x=1"


# --- the thread bridge ---------------------------------------------------------------------


async def test_sync_views_and_hooks_run_in_worker_threads(app: MicroASGI) -> None:
    idents: dict[str, int] = {}

    @app.before_request
    def sync_hook() -> None:
        idents.setdefault(f"hook {request.path}", threading.get_ident())

    @app.get("/sync")
    def sync_view() -> str:
        idents["sync"] = threading.get_ident()
        return "s"

    @app.get("/async")
    async def async_view() -> str:
        idents["async"] = threading.get_ident()
        return "a"

    client = app.async_test_client()
    assert (await client.get("/sync")).text == "s"
    assert (await client.get("/async")).text == "a"
    loop_thread = threading.get_ident()
    assert idents["async"] == loop_thread
    assert idents["sync"] != loop_thread
    assert idents["hook /sync"] != loop_thread
    assert idents["hook /async"] != loop_thread


async def test_sync_thread_limit_bounds_concurrency(app: MicroASGI) -> None:
    app.config["SYNC_THREAD_LIMIT"] = 2
    lock = threading.Lock()
    running = 0
    peak = 0

    @app.get("/slow/<int:n>")
    def slow(n: int) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        return f"done {n}"

    client = app.async_test_client()
    results: dict[int, tuple[int, str]] = {}

    async def fetch(n: int) -> None:
        response = await client.get(f"/slow/{n}")
        results[n] = (response.status_code, response.text)

    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(fetch, n)
    assert results == {n: (200, f"done {n}") for n in range(6)}
    assert peak == 2


def test_rule_without_a_view_builds_urls_and_answers_500() -> None:
    from microasgi import MicroASGI, url_for

    app = MicroASGI("no_view", static_folder=None)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/", endpoint="index")

    @app.get("/where")
    async def where() -> str:
        return url_for("index")

    client = app.test_client()
    assert client.get("/where").text == "/"
    assert client.get("/").status_code == 500


def test_endpoint_decorator_fills_a_rule_registered_without_a_view() -> None:
    from microasgi import MicroASGI

    app = MicroASGI("late_view", static_folder=None)
    app.add_url_rule("/", endpoint="index")

    @app.endpoint("index")
    async def index() -> str:
        return "filled in"

    assert app.test_client().get("/").text == "filled in"
