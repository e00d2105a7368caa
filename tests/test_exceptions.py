"""HTTP errors, abort(), error handlers and the 500 error boundary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import werkzeug.exceptions
import werkzeug.routing
from markupsafe import escape

from microasgi import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    MicroASGI,
    NotAcceptable,
    NotFound,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    Response,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
    abort,
    exceptions,
    request,
)
from microasgi.exceptions import default_exceptions
from microasgi.wrappers.response import error_response

KINDS = ["async", "sync"]

EXPECTED_CODES = {
    400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
    422, 423, 424, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
}  # fmt: skip


def add_view(app: MicroASGI, rule: str, fn: Callable[..., Any], kind: str, **options: Any) -> None:
    """Register ``fn`` as an ``async def`` or a plain ``def`` view (``kind``)."""
    if kind == "async":

        async def view(**kwargs: Any) -> Any:
            return fn(**kwargs)

    else:

        def view(**kwargs: Any) -> Any:
            return fn(**kwargs)

    view.__name__ = fn.__name__
    options.setdefault("endpoint", f"{kind}:{rule}")
    app.add_url_rule(rule, view_func=view, **options)


def add_handler(app: MicroASGI, key: Any, fn: Callable[[Any], Any], kind: str) -> None:
    """Register ``fn`` as an ``async def`` or ``def`` error handler for ``key``."""
    if kind == "async":

        async def handler(error: Any) -> Any:
            return fn(error)

    else:

        def handler(error: Any) -> Any:
            return fn(error)

    app.register_error_handler(key, handler)


def raiser(exc: BaseException) -> Callable[[], Any]:
    def view() -> Any:
        raise exc

    return view


def page(code: int, name: str, description: str) -> bytes:
    """Werkzeug's error page (its escaping is MarkupSafe's)."""
    return (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{code} {escape(name)}</title>\n<h1>{escape(name)}</h1>\n"
        f"<p>{escape(description)}</p>\n"
    ).encode()


# -- the exception classes ------------------------------------------------------------------------


def test_default_exceptions_cover_the_usual_codes() -> None:
    assert set(default_exceptions) >= EXPECTED_CODES


@pytest.mark.parametrize("name", exceptions.__all__)
def test_the_exceptions_are_werkzeugs_own(name: str) -> None:
    # So Flask code and extensions raise, catch and type-check the classes they expect.
    ours = getattr(exceptions, name)
    if name == "RequestRedirect":
        assert ours is werkzeug.routing.RequestRedirect
    elif name == "abort":
        assert callable(ours)
    elif name == "ClientGone":  # microasgi's one addition: a connection closed
        assert issubclass(ours, werkzeug.exceptions.ClientDisconnected)
    else:
        assert ours is getattr(werkzeug.exceptions, name)


@pytest.mark.parametrize(("code", "cls"), sorted(default_exceptions.items()))
def test_every_default_exception(code: int, cls: type[HTTPException]) -> None:
    assert issubclass(cls, HTTPException)
    assert cls.code == code
    assert isinstance(cls.description, str)
    assert cls.description.strip()
    error = cls()
    assert error.code == code
    assert error.description == cls.description
    response = error_response(error)
    assert response.status_code == code
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.data == error.get_body().encode()  # Werkzeug's page
    assert str(escape(cls.description)).encode() in response.data


@pytest.mark.parametrize(
    ("cls", "code", "name"),
    [
        (BadRequest, 400, "Bad Request"),
        (Unauthorized, 401, "Unauthorized"),
        (Forbidden, 403, "Forbidden"),
        (NotFound, 404, "Not Found"),
        (MethodNotAllowed, 405, "Method Not Allowed"),
        (NotAcceptable, 406, "Not Acceptable"),
        (Conflict, 409, "Conflict"),
        (Gone, 410, "Gone"),
        (RequestEntityTooLarge, 413, "Request Entity Too Large"),
        (UnsupportedMediaType, 415, "Unsupported Media Type"),
        (RequestedRangeNotSatisfiable, 416, "Requested Range Not Satisfiable"),
        (UnprocessableEntity, 422, "Unprocessable Entity"),
        (TooManyRequests, 429, "Too Many Requests"),
        (InternalServerError, 500, "Internal Server Error"),
    ],
)
def test_exported_exceptions(cls: type[HTTPException], code: int, name: str) -> None:
    assert default_exceptions[code] is cls
    assert cls().name == name


def test_get_response_body_and_headers() -> None:
    error = NotFound("No such <user>")
    response = error_response(error)
    assert response.status_code == 404
    assert response.headers.getlist("Content-Type") == ["text/html; charset=utf-8"]
    assert response.data == page(404, "Not Found", "No such <user>")
    assert b"&lt;user&gt;" in response.data
    assert str(error) == "404 Not Found: No such <user>"


def test_get_response_with_a_given_response() -> None:
    custom = Response("custom", 499)
    error = HTTPException(response=custom)
    assert error_response(error) is custom


def test_method_not_allowed_allow_header() -> None:
    response = error_response(MethodNotAllowed(["GET", "POST"]))
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert "Allow" not in error_response(MethodNotAllowed()).headers


def test_too_many_requests_retry_after() -> None:
    response = error_response(TooManyRequests(retry_after=30))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert "Retry-After" not in error_response(TooManyRequests()).headers


def test_too_many_requests_retry_after_datetime() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    response = error_response(TooManyRequests(retry_after=when))  # type: ignore[arg-type]
    assert response.headers["Retry-After"] == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_range_not_satisfiable_content_range() -> None:
    response = error_response(RequestedRangeNotSatisfiable(100))
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */100"
    response = error_response(RequestedRangeNotSatisfiable(length=0))
    assert response.headers["Content-Range"] == "bytes */0"
    assert "Content-Range" not in error_response(RequestedRangeNotSatisfiable()).headers


# -- abort ----------------------------------------------------------------------------------------


def test_abort_raises_the_class_for_the_code() -> None:
    with pytest.raises(NotFound) as info:
        abort(404)
    assert info.value.description == NotFound.description
    with pytest.raises(Forbidden) as forbidden:
        abort(403, "Admins only")
    assert forbidden.value.description == "Admins only"
    with pytest.raises(BadRequest) as bad:
        abort(400, description="Nope")
    assert bad.value.description == "Nope"


def test_abort_unknown_code_is_lookup_error() -> None:
    with pytest.raises(LookupError):
        abort(999)


def test_abort_with_a_response() -> None:
    custom = Response("custom", 418)
    with pytest.raises(HTTPException) as info:
        abort(custom)
    assert error_response(info.value) is custom


@pytest.mark.parametrize("kind", KINDS)
def test_abort_in_views(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/404", lambda: abort(404), kind)
    add_view(app, "/403", lambda: abort(403, "Admins only"), kind)
    add_view(app, "/resp", lambda: abort(Response("custom body", 418, {"X-C": "1"})), kind)
    add_view(app, "/405", lambda: abort(405, valid_methods=["GET", "PUT"]), kind)

    response = client.get("/404")
    assert response.status_code == 404
    assert response.data == page(404, "Not Found", NotFound.description)
    response = client.get("/403")
    assert response.status_code == 403
    assert response.data == page(403, "Forbidden", "Admins only")
    response = client.get("/resp")
    assert response.status_code == 418
    assert response.data == b"custom body"
    assert response.headers["X-C"] == "1"
    response = client.get("/405")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PUT"


@pytest.mark.parametrize("kind", KINDS)
def test_abort_unknown_code_in_a_view(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: abort(999), kind)
    with pytest.raises(LookupError):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/").status_code == 500


def test_routing_errors(app: MicroASGI, client: Any) -> None:
    @app.get("/only-get")
    def only_get() -> str:
        return "ok"

    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.data == page(404, "Not Found", NotFound.description)
    response = client.post("/only-get")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_custom_http_exception_subclass(app: MicroASGI, client: Any) -> None:
    class PaymentRequired(HTTPException):
        code = 402
        description = "Pay up."

    @app.get("/")
    def index() -> str:
        raise PaymentRequired()

    response = client.get("/")
    assert response.status_code == 402
    assert response.data == page(402, "Payment Required", "Pay up.")


def test_handler_for_unknown_code_is_refused(app: MicroASGI) -> None:
    with pytest.raises(ValueError):
        app.register_error_handler(402, lambda e: "x")


# -- error handlers -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key", [404, NotFound])
def test_handler_by_code_or_class(app: MicroASGI, client: Any, kind: str, key: Any) -> None:
    seen: list[Any] = []

    def handle(error: Any) -> Any:
        seen.append(error)
        return f"custom {error.code}: {error.description}", 404

    add_handler(app, key, handle, kind)
    add_view(app, "/abort", lambda: abort(404, "no user"), kind)
    add_view(app, "/raise", raiser(NotFound("no item")), kind)

    response = client.get("/unknown")
    assert (response.status_code, response.data) == (
        404,
        f"custom 404: {NotFound.description}".encode(),
    )
    response = client.get("/abort")
    assert (response.status_code, response.data) == (404, b"custom 404: no user")
    response = client.get("/raise")
    assert (response.status_code, response.data) == (404, b"custom 404: no item")
    assert all(isinstance(e, NotFound) for e in seen)
    assert len(seen) == 3


def test_handler_by_code_beats_handler_by_base_class(app: MicroASGI, client: Any) -> None:
    @app.errorhandler(HTTPException)
    def any_http(error: HTTPException) -> Any:
        return "generic", error.code

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> Any:
        return "specific", 404

    assert client.get("/missing").data == b"specific"


@pytest.mark.parametrize("kind", KINDS)
def test_most_specific_class_wins(app: MicroASGI, client: Any, kind: str) -> None:
    class SpecialValueError(ValueError):
        pass

    add_handler(app, Exception, lambda e: ("exception", 500), kind)
    add_handler(app, ValueError, lambda e: (f"value error: {e}", 400), kind)
    add_view(app, "/special", raiser(SpecialValueError("special")), kind)
    add_view(app, "/value", raiser(ValueError("plain")), kind)
    add_view(app, "/key", raiser(KeyError("k")), kind)

    response = client.get("/special")
    assert (response.status_code, response.data) == (400, b"value error: special")
    response = client.get("/value")
    assert (response.status_code, response.data) == (400, b"value error: plain")
    response = client.get("/key")
    assert (response.status_code, response.data) == (500, b"exception")


def test_registration_order_does_not_matter_for_specificity(app: MicroASGI, client: Any) -> None:
    class Special(ValueError):
        pass

    @app.errorhandler(ValueError)
    def value_error(error: Exception) -> Any:
        return "value", 400

    @app.errorhandler(Exception)
    def exception(error: Exception) -> Any:
        return "exception", 500

    @app.get("/")
    def index() -> str:
        raise Special()

    assert client.get("/").data == b"value"


@pytest.mark.parametrize("kind", KINDS)
def test_handler_for_http_exception_catches_every_http_error(
    app: MicroASGI, client: Any, kind: str
) -> None:
    add_handler(app, HTTPException, lambda e: (f"{e.code} {e.name}", e.code), kind)
    add_view(app, "/conflict", lambda: abort(409), kind)
    add_view(app, "/arg", lambda: request.args["missing"], kind)
    add_view(app, "/post-only", lambda: "ok", kind, methods=["POST"])
    add_view(app, "/json", lambda: request.get_json(), kind, methods=["POST"])
    add_view(app, "/server", lambda: abort(503), kind)

    results = {
        "missing": client.get("/missing"),
        "conflict": client.get("/conflict"),
        "arg": client.get("/arg"),
        "method": client.get("/post-only"),
        "media": client.post("/json", data="x", content_type="text/plain"),
        "server": client.get("/server"),
    }
    assert {k: (r.status_code, r.data) for k, r in results.items()} == {
        "missing": (404, b"404 Not Found"),
        "conflict": (409, b"409 Conflict"),
        "arg": (400, b"400 Bad Request"),
        "method": (405, b"405 Method Not Allowed"),
        "media": (415, b"415 Unsupported Media Type"),
        "server": (503, b"503 Service Unavailable"),
    }


def test_handler_for_an_http_exception_base_class(app: MicroASGI, client: Any) -> None:
    # An app's own base class (no code of its own) catches its subclasses, whatever their code.
    class APIError(HTTPException):
        pass

    class ItemMissing(APIError):
        code = 404
        description = "No such item."

    class ItemLocked(APIError):
        code = 423
        description = "Item locked."

    @app.errorhandler(APIError)
    def api_error(error: APIError) -> Any:
        return {"error": error.description}, error.code

    @app.get("/missing")
    def missing() -> str:
        raise ItemMissing()

    @app.get("/locked")
    def locked() -> str:
        raise ItemLocked()

    response = client.get("/missing")
    assert (response.status_code, response.get_json()) == (404, {"error": "No such item."})
    response = client.get("/locked")
    assert (response.status_code, response.get_json()) == (423, {"error": "Item locked."})
    # Our own NotFound is not an APIError: the default page answers.
    assert client.get("/nowhere").data == page(404, "Not Found", NotFound.description)


def test_handler_for_exception_also_catches_http_errors(app: MicroASGI, client: Any) -> None:
    # As in Flask: HTTPException is an Exception, so a catch-all handler sees 404s too.
    @app.errorhandler(Exception)
    def everything(error: Exception) -> Any:
        return type(error).__name__, 599

    response = client.get("/missing")
    assert (response.status_code, response.data) == (599, b"NotFound")


@pytest.mark.parametrize("kind", KINDS)
def test_handler_returning_tuple_or_dict(app: MicroASGI, client: Any, kind: str) -> None:
    add_handler(app, 418, lambda e: ("short and stout", 418, {"X-Teapot": "yes"}), kind)
    add_handler(app, 409, lambda e: {"error": e.description}, kind)
    add_handler(
        app,
        410,
        lambda e: Response("gone for good", 410, mimetype="text/plain"),
        kind,
    )
    add_view(app, "/tea", lambda: abort(418), kind)
    add_view(app, "/conflict", lambda: abort(409, "taken"), kind)
    add_view(app, "/gone", lambda: abort(410), kind)

    response = client.get("/tea")
    assert response.status_code == 418
    assert response.data == b"short and stout"
    assert response.headers["X-Teapot"] == "yes"
    response = client.get("/conflict")
    assert response.status_code == 200  # Flask: the handler's return value decides
    assert response.get_json() == {"error": "taken"}
    response = client.get("/gone")
    assert (response.status_code, response.data) == (410, b"gone for good")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("kind", KINDS)
def test_handled_exception_does_not_propagate_in_testing(
    app: MicroASGI, client: Any, kind: str
) -> None:
    assert app.testing is True
    add_handler(app, ZeroDivisionError, lambda e: ("handled", 400), kind)
    add_view(app, "/", lambda: 1 / 0, kind)
    response = client.get("/")
    assert (response.status_code, response.data) == (400, b"handled")


def test_handler_receives_the_raised_instance(app: MicroASGI, client: Any) -> None:
    error = ValueError("this one")
    seen: list[Any] = []

    @app.errorhandler(ValueError)
    def handle(e: Exception) -> Any:
        seen.append(e)
        return "ok", 400

    @app.get("/")
    def index() -> str:
        raise error

    client.get("/")
    assert seen == [error]
    assert seen[0] is error


# -- werkzeug exceptions from ported code ---------------------------------------------------------


def test_abort_is_caught_as_werkzeugs_http_exception() -> None:
    with pytest.raises(werkzeug.exceptions.NotFound):
        abort(404)
    try:
        abort(418)
    except werkzeug.exceptions.HTTPException as caught:
        assert caught.code == 418


@pytest.mark.parametrize(
    "where",
    [
        "view",
        "before_request",
        "after_request",
        "url_value_preprocessor",
        "error_handler",
        "blueprint_before_request",
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_werkzeug_exception_raised_anywhere_becomes_its_response(
    app: MicroASGI, client: Any, where: str, kind: str
) -> None:
    # What an extension's hook does: raise Werkzeug's exception (Flask-Limiter's
    # RateLimitExceeded, Flask-WTF's CSRFError are subclasses of them).
    from microasgi import Blueprint

    class RateLimitExceeded(werkzeug.exceptions.TooManyRequests):
        description = "Slow down"

    def fail(*args: Any) -> Any:
        raise RateLimitExceeded(retry_after=7)

    def passthrough(value: Any = None, *args: Any) -> Any:
        return value

    def hook(fn: Callable[..., Any]) -> Callable[..., Any]:
        if kind == "async":

            async def async_hook(*args: Any) -> Any:
                return fn(*args)

            return async_hook
        return fn

    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.get("/")
    def in_blueprint() -> str:
        return "never"

    if where == "blueprint_before_request":
        bp.before_request(hook(fail))
    app.register_blueprint(bp)
    if where == "before_request":
        app.before_request(hook(fail))
    elif where == "after_request":
        app.after_request(hook(fail))
    elif where == "url_value_preprocessor":
        app.url_value_preprocessor(fail)
    elif where == "error_handler":
        app.register_error_handler(werkzeug.exceptions.Conflict, hook(fail))

    def view() -> Any:
        if where == "error_handler":
            raise werkzeug.exceptions.Conflict()
        if where == "view":
            fail()
        return "never"

    add_view(app, "/", view, kind)
    response = client.get("/bp/" if where.startswith("blueprint") else "/")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert b"Slow down" in response.data


def test_a_handler_for_werkzeugs_class_answers_the_apps_own_errors(
    app: MicroASGI, client: Any
) -> None:
    @app.errorhandler(werkzeug.exceptions.NotFound)
    def handle(error: Any) -> Any:
        return f"handled {type(error).__module__}", 404

    assert client.get("/missing").text == "handled werkzeug.exceptions"


def test_real_werkzeug_exceptions_keep_their_headers(app: MicroASGI, client: Any) -> None:
    # werkzeug comes with Flask in the test extra: the real classes, whose __init__
    # sets what their headers are built from.
    from werkzeug.datastructures import WWWAuthenticate
    from werkzeug.exceptions import ServiceUnavailable, Unauthorized
    from werkzeug.routing import RequestRedirect as WerkzeugRedirect

    challenge = WWWAuthenticate("basic", {"realm": "admin"})
    add_view(app, "/401", raiser(Unauthorized("Log in", www_authenticate=challenge)), "async")
    add_view(app, "/503", raiser(ServiceUnavailable(retry_after=30)), "async")
    add_view(app, "/308", raiser(WerkzeugRedirect("http://example.org/moved")), "async")

    response = client.get("/401")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == str(challenge)  # werkzeug's rendering
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert response.data == page(401, "Unauthorized", "Log in")
    response = client.get("/503")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    response = client.get("/308")
    assert (response.status_code, response.location) == (308, "http://example.org/moved")


def test_abort_503_with_retry_after(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    async def index() -> str:
        abort(503, retry_after=120)

    response = client.get("/")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "120")


def test_trap_http_exceptions(app: MicroASGI, client: Any) -> None:
    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return "handled", 404

    @app.get("/forbidden")
    async def forbidden() -> str:
        abort(403)

    assert client.get("/forbidden").status_code == 403
    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    with pytest.raises(Forbidden):
        client.get("/forbidden")
    # An error with a handler is still handled; outside tests a trapped one is a 500.
    assert client.get("/missing").data == b"handled"
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/forbidden").status_code == 500


@pytest.mark.parametrize(
    ("trap", "debug", "trapped"),
    [
        (True, False, {"key", "bad"}),
        (False, True, set()),
        (None, True, {"key"}),  # unset: in debug mode, a missing key only
        (None, False, set()),
    ],
)
def test_trap_bad_request_errors(
    app: MicroASGI, client: Any, trap: bool | None, debug: bool, trapped: set[str]
) -> None:
    app.config.update(TRAP_BAD_REQUEST_ERRORS=trap, DEBUG=debug)

    @app.get("/key")
    async def key() -> str:
        return request.args["missing"]

    @app.get("/bad")
    async def bad() -> str:
        abort(400)

    @app.get("/forbidden")
    async def forbidden() -> str:
        abort(403)

    for name in ("key", "bad"):
        if name in trapped:
            with pytest.raises(BadRequest):
                client.get(f"/{name}")
        else:
            assert client.get(f"/{name}").status_code == 400
    assert client.get("/forbidden").status_code == 403  # not a 400: never trapped here


def test_non_werkzeug_exception_with_code_is_not_http(app: MicroASGI, client: Any) -> None:
    class LooksLikeHTTP(Exception):
        code = 404
        description = "not really"

    @app.get("/")
    def index() -> str:
        raise LooksLikeHTTP()

    with pytest.raises(LooksLikeHTTP):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/").status_code == 500


# -- the 500 boundary -----------------------------------------------------------------------------


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", KINDS)
def test_unhandled_exception_propagates_in_testing(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/boom", raiser(ZeroDivisionError("secret detail")), kind)
    with pytest.raises(ZeroDivisionError, match="secret detail"):
        client.get("/boom")


@pytest.mark.parametrize("kind", KINDS)
def test_unhandled_exception_is_a_logged_bare_500(
    app: MicroASGI, client: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    add_view(app, "/boom", raiser(ZeroDivisionError("secret detail")), kind)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.data == page(500, "Internal Server Error", InternalServerError.description)
    assert b"Traceback" not in response.data
    assert b"secret detail" not in response.data
    assert b"ZeroDivisionError" not in response.data

    records = error_records(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.name == app.name
    assert record.getMessage() == "Exception on /boom [GET]"
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
    assert "Traceback (most recent call last)" in caplog.text
    assert "ZeroDivisionError: secret detail" in caplog.text


@pytest.mark.parametrize("kind", KINDS)
def test_unhandled_exception_in_debug_shows_traceback(
    app: MicroASGI, client: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(PROPAGATE_EXCEPTIONS=False, DEBUG=True)
    add_view(app, "/boom", raiser(ZeroDivisionError("secret detail")), kind)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    assert b"Traceback (most recent call last)" in response.data
    assert b"ZeroDivisionError: secret detail" in response.data
    assert len(error_records(caplog)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_500_handler_gets_the_original_exception(
    app: MicroASGI, client: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[Any] = []

    def handle(error: Any) -> Any:
        seen.append(error)
        return f"sorry: {type(error.original_exception).__name__}", 500

    add_handler(app, 500, handle, kind)
    add_view(app, "/boom", raiser(KeyError("k")), kind)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert (response.status_code, response.data) == (500, b"sorry: KeyError")
    assert isinstance(seen[0], InternalServerError)
    assert isinstance(seen[0].original_exception, KeyError)
    assert [r.getMessage() for r in error_records(caplog)] == ["Exception on /boom [GET]"]


@pytest.mark.parametrize("kind", KINDS)
def test_error_handler_that_raises_gives_bare_500(
    app: MicroASGI, client: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(error: Any) -> Any:
        raise RuntimeError("handler broke")

    add_handler(app, ValueError, broken, kind)
    add_handler(app, 404, broken, kind)
    add_view(app, "/value", raiser(ValueError("v")), kind)
    with caplog.at_level(logging.ERROR):
        for path in ("/value", "/missing"):
            response = client.get(path)
            assert response.status_code == 500
            assert response.data == page(
                500, "Internal Server Error", InternalServerError.description
            )
            assert b"handler broke" not in response.data
    records = error_records(caplog)
    assert len(records) == 2
    assert all(r.exc_info is not None and r.exc_info[0] is RuntimeError for r in records)


@pytest.mark.parametrize("kind", KINDS)
def test_500_handler_that_raises_gives_bare_500(
    app: MicroASGI, client: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(error: Any) -> Any:
        raise RuntimeError("500 handler broke")

    add_handler(app, 500, broken, kind)
    add_view(app, "/boom", raiser(ZeroDivisionError()), kind)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.data == page(500, "Internal Server Error", InternalServerError.description)
    assert b"500 handler broke" not in response.data
    assert "500 handler broke" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_bad_request_body_errors_are_not_logged(
    app: MicroASGI, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=10)

    @app.post("/")
    def index() -> Any:
        return request.get_json()

    with caplog.at_level(logging.ERROR):
        assert client.post("/", data="{bad", content_type="application/json").status_code == 400
        assert client.post("/", data="x", content_type="text/plain").status_code == 415
        assert client.post("/", data="x" * 11).status_code == 413
    assert error_records(caplog) == []
