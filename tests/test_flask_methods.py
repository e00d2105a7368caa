"""Flask's overridable app methods, with Flask's signatures, and the request signals.

Extensions wrap these methods with plain functions (Flask-CORS wraps
``handle_exception`` and ``handle_user_exception``) or subclasses override
them: the request path must call what is there, and what it calls must behave
as Flask's does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from werkzeug.exceptions import BadRequest, NotFound

from microasgi import MicroASGI, Response, abort, current_app, request
from microasgi.signals import (
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)

from .kinds import KIND, as_kind


@pytest.fixture
def app() -> MicroASGI:
    app = MicroASGI(__name__)
    app.testing = True
    return app


def _cors_like(app: MicroASGI) -> None:
    """What Flask-CORS does to an app: wrap its two error methods with sync functions."""

    def after_request_decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            response = app.make_response(f(*args, **kwargs))
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapped

    app.handle_exception = after_request_decorator(app.handle_exception)  # type: ignore[method-assign]
    app.handle_user_exception = after_request_decorator(  # type: ignore[method-assign]
        app.handle_user_exception
    )


@KIND
def test_sync_wrappers_of_the_error_methods_answer_errors(app: MicroASGI, kind: str) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _cors_like(app)

    def boom() -> str:
        raise ValueError("boom")

    app.get("/boom")(as_kind(kind, boom))
    app.get("/abort", endpoint="abort")(as_kind(kind, lambda: abort(403)))
    app.get("/ok", endpoint="ok")(as_kind(kind, lambda: "ok"))

    client = app.test_client()
    for path, status in [("/missing", 404), ("/abort", 403), ("/boom", 500)]:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
    # The normal path is untouched by the wrappers.
    response = client.get("/ok")
    assert (response.text, response.headers.get("Access-Control-Allow-Origin")) == ("ok", None)


@KIND
def test_error_handlers_of_either_kind_run_under_wrapped_error_methods(
    app: MicroASGI, kind: str
) -> None:
    _cors_like(app)
    app.errorhandler(404)(as_kind(kind, lambda error: ("nothing here", 404)))

    response = app.test_client().get("/missing")
    assert (response.status_code, response.text) == (404, "nothing here")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_handle_http_exception_override_sees_http_errors(app: MicroASGI) -> None:
    seen: list[int | None] = []

    class App(MicroASGI):
        def handle_http_exception(self, e: Any) -> Any:
            seen.append(e.code)
            return super().handle_http_exception(e)

    app = App(__name__)

    @app.get("/teapot")
    async def teapot() -> str:
        abort(418)

    client = app.test_client()
    assert client.get("/teapot").status_code == 418
    assert client.get("/missing").status_code == 404
    assert seen == [418, 404]


@KIND
def test_preprocess_request_override_can_answer(kind: str) -> None:
    class App(MicroASGI):
        def preprocess_request(self) -> Any:
            if request.args.get("stop"):
                return "stopped by preprocess_request"
            return super().preprocess_request()

    app = App(__name__)
    app.before_request(as_kind(kind, lambda: None))
    app.get("/")(as_kind(kind, lambda: "view"))

    client = app.test_client()
    assert client.get("/?stop=1").text == "stopped by preprocess_request"
    assert client.get("/").text == "view"


@KIND
def test_full_dispatch_and_finalize_request_overrides_run_in_flasks_order(kind: str) -> None:
    calls: list[str] = []

    class App(MicroASGI):
        def full_dispatch_request(self) -> Response:
            calls.append("full_dispatch_request")
            return super().full_dispatch_request()

        def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Response:
            calls.append(f"finalize_request {rv!r}")
            return super().finalize_request(rv, from_error_handler)

    app = App(__name__)
    app.before_request(as_kind(kind, lambda: calls.append("before") and None))
    app.after_request(as_kind(kind, lambda response: calls.append("after") or response))
    app.get("/")(as_kind(kind, lambda: calls.append("view") or "hello"))

    assert app.test_client().get("/").text == "hello"
    assert calls == ["full_dispatch_request", "before", "view", "finalize_request 'hello'", "after"]


def test_a_flask_style_app_still_answers_a_bad_body(app: MicroASGI) -> None:
    class App(MicroASGI):
        def dispatch_request(self) -> Any:
            return super().dispatch_request()

    app = App(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    def upload() -> str:
        return request.get_data(as_text=True)

    client = app.test_client()
    assert client.post("/", data=b"x" * 100).status_code == 413
    assert client.post("/", data=b"small").text == "small"


@KIND
def test_teardown_overrides_have_flasks_signature(kind: str) -> None:
    seen: list[tuple[str, Any]] = []

    class App(MicroASGI):
        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            seen.append(("request", exc))
            super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
            seen.append(("appcontext", exc))
            super().do_teardown_appcontext(exc)

    app = App(__name__)
    app.teardown_request(as_kind(kind, lambda exc: seen.append(("hook", exc))))
    app.get("/")(as_kind(kind, lambda: "hello"))

    assert app.test_client().get("/").text == "hello"
    assert seen == [("request", None), ("hook", None), ("appcontext", None)]


def test_log_exception_override_gets_exc_info(app: MicroASGI) -> None:
    logged: list[Any] = []

    class App(MicroASGI):
        def log_exception(self, exc_info: Any) -> None:
            logged.append((exc_info[0], str(exc_info[1]), request.path))

    app = App(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    async def boom() -> str:
        raise ValueError("boom")

    assert app.test_client().get("/boom").status_code == 500
    assert logged == [(ValueError, "boom", "/boom")]


def test_make_default_options_response_override(app: MicroASGI) -> None:
    class App(MicroASGI):
        def make_default_options_response(self) -> Response:
            response = super().make_default_options_response()
            response.headers["X-Options"] = "custom"
            return response

    app = App(__name__)

    @app.route("/", methods=["GET", "POST"])
    async def index() -> str:
        return "hello"

    response = app.test_client().options("/")
    assert response.headers["X-Options"] == "custom"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


async def _double(value: int) -> int:
    await anyio.sleep(0)
    return value * 2


def test_ensure_sync_runs_async_code_from_a_def_view(app: MicroASGI) -> None:
    @app.get("/")
    def index() -> str:
        assert threading.current_thread() is not threading.main_thread() or True
        return str(current_app.ensure_sync(_double)(21))

    assert app.test_client().get("/").text == "42"
    assert app.ensure_sync(index) is index


def test_async_to_sync_outside_a_request_starts_a_loop(app: MicroASGI) -> None:
    # A CLI command, a script: no loop runs in this thread.
    with app.app_context():
        assert app.async_to_sync(_double)(4) == 8


async def test_async_to_sync_on_the_event_loop_says_to_await(app: MicroASGI) -> None:
    with pytest.raises(RuntimeError, match="await it"):
        app.async_to_sync(_double)(4)


@KIND
def test_request_signals_are_sent_as_flask_sends_them(app: MicroASGI, kind: str) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[tuple[str, Any]] = []

    def boom() -> str:
        raise ValueError("boom")

    app.get("/")(as_kind(kind, lambda: "hello"))
    app.get("/boom")(as_kind(kind, boom))

    def started(sender: Any, **extra: Any) -> None:
        events.append(("started", extra))
        assert sender is app and request.path in ("/", "/boom")

    def finished(sender: Any, response: Response, **extra: Any) -> None:
        events.append(("finished", response.status_code))

    async def exception(sender: Any, exception: BaseException, **extra: Any) -> None:
        events.append(("exception", type(exception)))

    def request_down(sender: Any, exc: BaseException | None, **extra: Any) -> None:
        events.append(("request_tearing_down", type(exc)))

    def context_down(sender: Any, exc: BaseException | None, **extra: Any) -> None:
        events.append(("appcontext_tearing_down", type(exc)))

    client = app.test_client()
    with (
        request_started.connected_to(started, app),
        request_finished.connected_to(finished, app),
        got_request_exception.connected_to(exception, app),
        request_tearing_down.connected_to(request_down, app),
        appcontext_tearing_down.connected_to(context_down, app),
    ):
        assert client.get("/").text == "hello"
        assert client.get("/boom").status_code == 500
    assert events == [
        ("started", {}),
        ("finished", 200),
        ("request_tearing_down", type(None)),
        ("appcontext_tearing_down", type(None)),
        ("started", {}),
        ("exception", ValueError),
        ("request_tearing_down", ValueError),
        ("appcontext_tearing_down", ValueError),
    ]
    # Disconnected: nothing more is recorded.
    client.get("/")
    assert len(events) == 8


def test_an_unhandled_error_in_a_handler_under_wrapped_methods_is_a_500(
    app: MicroASGI, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _cors_like(app)

    @app.errorhandler(NotFound)
    def broken(error: Any) -> str:
        raise RuntimeError("handler failed")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/missing")
    assert response.status_code == 500
    assert "handler failed" in caplog.text


# -- TRAP_* as Flask's own tests check them (tests/test_basic.py) ---------------------


@pytest.mark.parametrize(
    ("debug", "trap", "expect_key", "expect_abort"),
    [(False, None, True, True), (True, None, False, True), (False, True, False, False)],
)
def test_trap_bad_request_key_error(
    app: MicroASGI, debug: bool, trap: bool | None, expect_key: bool, expect_abort: bool
) -> None:
    app.config["DEBUG"] = debug
    app.config["TRAP_BAD_REQUEST_ERRORS"] = trap

    @app.route("/key")
    def fail() -> str:
        return request.form["missing_key"]

    @app.route("/abort")
    def allow_abort() -> str:
        abort(400)

    client = app.test_client()
    if expect_key:
        response = client.get("/key")
        assert response.status_code == 400
        assert b"missing_key" not in response.data
    else:
        with pytest.raises(KeyError) as exc_info:
            client.get("/key")
        assert exc_info.errisinstance(BadRequest)
        assert "missing_key" in exc_info.value.get_description()
    if expect_abort:
        assert client.get("/abort").status_code == 400
    else:
        with pytest.raises(BadRequest):
            client.get("/abort")


def test_trapping_of_all_http_exceptions(app: MicroASGI) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/fail")
    def fail() -> str:
        abort(404)

    with pytest.raises(NotFound):
        app.test_client().get("/fail")


@pytest.mark.parametrize("trigger", ["before", "after"])
def test_error_handler_after_processor_error(app: MicroASGI, trigger: str) -> None:
    app.testing = False

    @app.before_request
    def before_request() -> None:
        if trigger == "before":
            raise ZeroDivisionError

    @app.after_request
    def after_request(response: Response) -> Response:
        if trigger == "after":
            raise ZeroDivisionError
        return response

    @app.route("/")
    def index() -> str:
        return "Foo"

    @app.errorhandler(500)
    def internal_server_error(e: Any) -> Any:
        return "Hello Server Error", 500

    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (500, b"Hello Server Error")


# -- view attributes and registration, as Flask's add_url_rule -------------------------


def test_required_methods_and_provide_automatic_options_are_honoured(app: MicroASGI) -> None:
    def view() -> str:
        return request.method

    view.required_methods = ["PUT"]  # type: ignore[attr-defined]
    view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view, methods=["GET"])

    client = app.test_client()
    assert client.put("/").text == "PUT"
    assert client.options("/").status_code == 405


def test_one_bound_method_may_serve_two_rules(app: MicroASGI) -> None:
    class Views:
        def index(self) -> str:
            return "index"

    views = Views()
    # Each attribute access makes a new bound method: equal, not identical.
    app.add_url_rule("/", "index", views.index)
    app.add_url_rule("/home", "index", views.index)
    with pytest.raises(AssertionError, match="overwriting"):
        app.add_url_rule("/other", "index", lambda: "other")
    client = app.test_client()
    assert client.get("/").text == client.get("/home").text == "index"


def test_a_wrapped_handle_exception_still_shows_the_debug_page(app: MicroASGI) -> None:
    app.config.update(PROPAGATE_EXCEPTIONS=False, DEBUG=True)
    _cors_like(app)

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("<boom>")

    response = app.test_client().get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "ValueError" in response.text and "&lt;boom&gt;" in response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@KIND
def test_hooks_added_to_the_lists_while_serving_run(app: MicroASGI, kind: str) -> None:
    # Flask reads its hook lists per request, and extensions append to them directly,
    # even from a view (Flask-Caching's response_hit_indication does).
    def tag(response: Response) -> Response:
        response.headers["X-Tag"] = "tagged"
        return response

    added: list[bool] = []

    def view() -> str:
        if not added:
            app.after_request_funcs[None].append(tag)
            added.append(True)
        return "hello"

    app.get("/")(as_kind(kind, view))
    client = app.test_client()
    # The request that added it sees it too, as in Flask.
    assert client.get("/").headers.get("X-Tag") == "tagged"
    assert client.get("/").headers.get("X-Tag") == "tagged"
    app.after_request_funcs[None].remove(tag)
    assert client.get("/").headers.get("X-Tag") is None
    app.before_request_funcs.setdefault(None, []).append(lambda: "from a hook")
    assert client.get("/").text == "from a hook"


@KIND
def test_each_request_pushes_and_pops_an_app_context(app: MicroASGI, kind: str) -> None:
    from microasgi.signals import appcontext_popped, appcontext_pushed

    events: list[tuple[str, Any]] = []

    def pushed(sender: Any, **extra: Any) -> None:
        events.append(("pushed", request.path))  # the request's context is current

    def popped(sender: Any, **extra: Any) -> None:
        events.append(("popped", sender))

    app.get("/")(as_kind(kind, lambda: events.append(("view", None)) or "hello"))
    with appcontext_pushed.connected_to(pushed, app), appcontext_popped.connected_to(popped, app):
        assert app.test_client().get("/").text == "hello"
    assert events == [("pushed", "/"), ("view", None), ("popped", app)]
